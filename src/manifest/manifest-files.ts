import { MANIFEST_PATH } from './site-manifest.ts';

/** One file a mirror must serve, relative to its web root (no leading slash). */
export interface DeployFile {
  path: string;
  content: string;
  contentType: string;
}

/**
 * The files every mirror must serve besides the site: today the signed manifest, when one was published. Pure: a
 * deploy step (Pulumi's SSH/cloud mirrors, src/infra) copies them into the web root next to the site's content.
 */
export function manifestDeployFiles(publishedJson: string | undefined): DeployFile[] {
  if (publishedJson === undefined) return [];
  return [{ path: MANIFEST_PATH.replace(/^\//, ''), content: publishedJson, contentType: 'application/json' }];
}
