/** The demo's scripted steps, as data: what is done and what must then be seen. */
export interface DemoStep {
  title: string;
  /** Upper bound to see the expected answer; the step fails past it. */
  timeoutMs: number;
}

export const STEP_TITLES = [
  'all three mirrors healthy and published',
  'mirror B killed: the embedded DNS server stops answering with it',
  'mirror C starts serving different bytes: caught by the content digest check',
  'B restarts and C is fixed: both rise back into the answer',
  'a responder drains A: traffic moves away from it',
  'the responder undrains A: it serves again',
] as const;
