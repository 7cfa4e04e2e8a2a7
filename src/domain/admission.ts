// What a full store costs a submission (SPEC §8): no work while calm, then a stamp price that rises
// linearly with the fill, as Tor's onion-service proof-of-work defence does.
import type { Admission } from '../wire/answers.js';

export interface AdmissionOptions {
  /** --max-store-bytes: the quota of sealed bytes held by records that are not final. */
  readonly maxStoreBytes: number;
  /** --admission-threshold: the fraction of the quota below which no stamp is asked. */
  readonly threshold: number;
  /** --admission-max-bits: the bits asked at a full store. */
  readonly maxBits: number;
}

/** `admission` of /v1/info. */
export type AdmissionLevel = Admission;

export function admissionLevel(storedBytes: number, options: AdmissionOptions): AdmissionLevel {
  // An operator may lower the quota below what is stored: that is a full store, not more.
  const fill = Math.min(1, storedBytes / options.maxStoreBytes);
  return { bits: bitsAt(fill, options), storeFull: Math.round(fill * 100) / 100 };
}

function bitsAt(fill: number, { threshold, maxBits }: AdmissionOptions): number {
  if (fill <= threshold) return 0;
  // Rounded up: any fill past the threshold asks for at least one bit.
  return Math.min(maxBits, Math.ceil((maxBits * (fill - threshold)) / (1 - threshold)));
}
