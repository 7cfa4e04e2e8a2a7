// The base of every error the client library throws for an expected failure, so callers can
// catch them all at once; `cause` keeps the underlying error.
export class RelayStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RelayStoreError';
  }
}
