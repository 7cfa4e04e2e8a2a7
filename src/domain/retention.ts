// How long a finished record stays answerable: the one rule for when a terminal record is purged.

/** Purge moments are rounded up to whole days so that they do not record when something happened. */
export function purgeAt(now: number, retentionSeconds: number): number {
  return Math.ceil((now + retentionSeconds) / 86_400) * 86_400;
}
