/**
 * Route 53 credentials through the AWS SDK's default chain (issue 9 item 3): with no key variables named in the
 * settings, the driver signs with what the chain finds — environment keys with a session token, or a profile of the
 * shared credentials file — and the contract fake checks the key id, the SigV4 signature and the session token.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { createRoute53Driver } from '../../src/drivers/route53/route53-driver.ts';
import { route53Settings } from '../../src/drivers/route53/route53-settings.ts';
import { startRoute53Fake, type Route53Fake } from '../fakes/route53-fake.ts';

const KEY_ID = 'ASIAFAKETEMPORARY001';
const SECRET = 'r53-temp-secret-Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0';
const TOKEN = 'IQoJb3JpZ2luX2VjEFAKE-session-token-0123456789';
const ZONE = 'example.org';
const AWS_VARS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'AWS_EC2_METADATA_DISABLED'];

let fake: Route53Fake;
let dir: string;
const saved: Record<string, string | undefined> = {};

before(async () => {
  for (const k of AWS_VARS) saved[k] = process.env[k];
  fake = await startRoute53Fake({ accessKeyId: KEY_ID, secretAccessKey: SECRET, sessionToken: TOKEN, zones: [ZONE], verifySignature: true, insyncAfterMs: 1 });
  fake.seed(ZONE, { name: `www.${ZONE}`, type: 'A', ttl: 60, values: ['192.0.2.7'] });
  dir = await mkdtemp(join(tmpdir(), 'flotilla-aws-'));
});
afterEach(() => {
  for (const k of AWS_VARS) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
});
after(async () => {
  await fake?.stop();
  await rm(dir, { recursive: true, force: true });
});

function clearAws() {
  for (const k of AWS_VARS) delete process.env[k];
  // never reach for an instance metadata endpoint from a test
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'none');
  process.env.AWS_CONFIG_FILE = join(dir, 'none');
}

const driver = (settings: Record<string, unknown>, env: Record<string, string | undefined> = process.env) =>
  createRoute53Driver({ name: 'r53', settings: route53Settings.parse({ endpoint: fake.url, ...settings }), env }, { retry: { attempts: 1 } });

describe('route53 credentials', () => {
  it('settings may name no key variables: the schema accepts it, and half a pair is an error', () => {
    assert.equal(route53Settings.safeParse({}).success, true);
    const half = route53Settings.safeParse({ accessKeyIdEnv: 'K' });
    assert.equal(half.success, false);
    assert.match(JSON.stringify(half.error?.issues), /both accessKeyIdEnv and secretAccessKeyEnv, or neither/);
  });

  it('default chain, environment: temporary keys with AWS_SESSION_TOKEN sign the requests', async () => {
    clearAws();
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET, AWS_SESSION_TOKEN: TOKEN });
    const d = driver({});
    const sets = await d.listRecords(ZONE);
    assert.ok(sets.some((s) => s.name === `www.${ZONE}` && s.values[0] === '192.0.2.7'));
    await d.close?.();
  });

  it('default chain, shared credentials file: the profile named in the settings', async () => {
    clearAws();
    await writeFile(join(dir, 'credentials'), `[other]\naws_access_key_id = AKIAWRONG00000000000\naws_secret_access_key = wrong\n\n[deploy]\naws_access_key_id = ${KEY_ID}\naws_secret_access_key = ${SECRET}\naws_session_token = ${TOKEN}\n`);
    process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'credentials');
    const d = driver({ profile: 'deploy' });
    assert.ok((await d.listRecords(ZONE)).length > 0);
    await d.close?.();
  });

  it('named variables, with sessionTokenEnv: exactly those, whatever the environment holds', async () => {
    clearAws();
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIAWRONG00000000000', AWS_SECRET_ACCESS_KEY: 'wrong' });
    const d = driver({ accessKeyIdEnv: 'K', secretAccessKeyEnv: 'S', sessionTokenEnv: 'T' }, { K: KEY_ID, S: SECRET, T: TOKEN });
    assert.ok((await d.listRecords(ZONE)).length > 0);
    // without the token the fake refuses, as STS credentials are refused without theirs
    const noToken = driver({ accessKeyIdEnv: 'K', secretAccessKeyEnv: 'S' }, { K: KEY_ID, S: SECRET });
    await assert.rejects(noToken.listRecords(ZONE), (e: Error & { code?: string }) => e.code === 'DRIVER_AUTH');
    await d.close?.();
    await noToken.close?.();
  });
});
