// Secrets at rest: AES-256-GCM with SECRETS_KEY (32 random bytes, base64). A sealed value is
// `enc:v1:<key id>:<base64url of iv, ciphertext and tag>`, bound to what it belongs to (a webhook id), so
// it cannot be copied onto another row. The key id (a hash prefix of the key, not the key) tells which
// key sealed it: after a rotation, SECRETS_KEY_PREVIOUS still opens what the old key sealed until the
// re-encryption command has sealed everything anew.
//
// Without a key, values are stored as they are (local development), and values stored before a key was
// set are read as they are: both are plain text, told apart from sealed values by the prefix.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

const PREFIX = "enc:v1:";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A sealed value whose key tetik does not have, or which was tampered with. */
export class SecretUnreadable extends Error {
  readonly code = "secret_unreadable";
  constructor(message: string) {
    super(message);
    this.name = "SecretUnreadable";
  }
}

export interface SecretBox {
  /** Whether seal() encrypts (a key is set). */
  readonly encrypting: boolean;
  seal(plain: string, boundTo: string): string;
  open(stored: string, boundTo: string): string;
  /** Whether a stored value is sealed with the current key (the re-encryption command skips those). */
  isCurrent(stored: string): boolean;
}

const keyId = (key: Buffer) => createHash("sha256").update(key).digest("hex").slice(0, 8);

/** Decodes a SECRETS_KEY value: the base64 of exactly 32 bytes (`openssl rand -base64 32`). */
export function parseSecretsKey(text: string): Buffer | undefined {
  return /^[A-Za-z0-9+/]{43}=?$/.test(text.trim()) ? Buffer.from(text.trim(), "base64") : undefined;
}

export function createSecretBox(current: Buffer | undefined, previous: Buffer[] = []): SecretBox {
  const keys = new Map([...(current ? [current] : []), ...previous].map((key) => [keyId(key), key]));
  const currentId = current && keyId(current);
  return {
    encrypting: current !== undefined,
    seal(plain, boundTo) {
      if (!current) return plain;
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", current, iv).setAAD(Buffer.from(boundTo));
      const sealed = Buffer.concat([iv, cipher.update(plain, "utf8"), cipher.final(), cipher.getAuthTag()]);
      return `${PREFIX}${currentId}:${sealed.toString("base64url")}`;
    },
    open(stored, boundTo) {
      if (!stored.startsWith(PREFIX)) return stored;
      const [id, body = ""] = stored.slice(PREFIX.length).split(":");
      const key = keys.get(id!);
      if (!key)
        throw new SecretUnreadable(`sealed with key ${id}, which is neither SECRETS_KEY nor in SECRETS_KEY_PREVIOUS`);
      const sealed = Buffer.from(body, "base64url");
      try {
        const decipher = createDecipheriv("aes-256-gcm", key, sealed.subarray(0, IV_BYTES)).setAAD(
          Buffer.from(boundTo),
        );
        decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
        return Buffer.concat([
          decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
          decipher.final(),
        ]).toString("utf8");
      } catch {
        throw new SecretUnreadable(
          `sealed with key ${id} but does not open with it (altered, or moved from another row)`,
        );
      }
    },
    isCurrent: (stored) => (currentId ? stored.startsWith(`${PREFIX}${currentId}:`) : !stored.startsWith(PREFIX)),
  };
}
