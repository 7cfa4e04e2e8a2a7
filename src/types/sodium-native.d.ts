// The part of sodium-native (libsodium) that RelayStore uses, typed here: the published typings
// describe an older major version.
declare module 'sodium-native' {
  const sodium: {
    readonly crypto_sign_BYTES: number;
    readonly crypto_sign_PUBLICKEYBYTES: number;
    readonly crypto_sign_SECRETKEYBYTES: number;
    crypto_sign_seed_keypair(publicKey: Buffer, secretKey: Buffer, seed: Buffer): void;
    crypto_sign_detached(signature: Buffer, message: Buffer, secretKey: Buffer): void;
    sodium_malloc(size: number): Buffer;
    crypto_stream_chacha20_ietf_xor(out: Buffer, message: Buffer, nonce: Buffer, key: Buffer): void;
  };
  export default sodium;
}
