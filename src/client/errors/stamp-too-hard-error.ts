// The server asks for more proof of work (SPEC §8) than the client's cap (maxStampBits): refused
// before any search, since a hostile or broken server could otherwise keep it searching for ever.
import { stampCapRefusal } from '../../domain/stamp.js';
import { RelayStoreError } from './relaystore-error.js';

export class StampTooHardError extends RelayStoreError {
  constructor(
    readonly bits: number,
    readonly maxBits: number,
  ) {
    super(stampCapRefusal(bits, maxBits) ?? `a stamp of ${bits} bits is within the cap of ${maxBits}`);
    this.name = 'StampTooHardError';
  }
}
