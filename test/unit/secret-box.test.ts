import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSecretBox, parseSecretsKey, SecretUnreadable } from "../../functions/platform/secret-box.ts";

const key = () => randomBytes(32);

describe("secret box", () => {
  it("seals with AES-256-GCM, bound to its row, and opens with the key that sealed it", () => {
    const current = key();
    const box = createSecretBox(current);
    const sealed = box.seal("whsec_abc", "whk_1");
    expect(sealed).toMatch(/^enc:v1:[0-9a-f]{8}:[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain("abc");
    expect(box.seal("whsec_abc", "whk_1")).not.toBe(sealed); // a fresh IV each time
    expect(box.open(sealed, "whk_1")).toBe("whsec_abc");
    expect(box.isCurrent(sealed)).toBe(true);

    expect(() => box.open(sealed, "whk_2")).toThrow(SecretUnreadable); // copied onto another row
    const tampered = sealed.slice(0, -2) + (sealed.endsWith("A") ? "BB" : "AA");
    expect(() => box.open(tampered, "whk_1")).toThrow(SecretUnreadable);
    expect(() => createSecretBox(key()).open(sealed, "whk_1")).toThrow(
      /neither SECRETS_KEY nor in SECRETS_KEY_PREVIOUS/,
    );
    // After a rotation the previous key still opens it, and it is no longer current.
    const rotated = createSecretBox(key(), [current]);
    expect(rotated.open(sealed, "whk_1")).toBe("whsec_abc");
    expect(rotated.isCurrent(sealed)).toBe(false);
  });

  it("without a key stores plain text, and reads plain text stored before a key was set", () => {
    const plain = createSecretBox(undefined);
    expect(plain.encrypting).toBe(false);
    expect(plain.seal("whsec_abc", "whk_1")).toBe("whsec_abc");
    expect(createSecretBox(key()).open("whsec_abc", "whk_1")).toBe("whsec_abc");
    expect(createSecretBox(key()).isCurrent("whsec_abc")).toBe(false);
  });

  it("accepts only the base64 of 32 bytes as a key", () => {
    expect(parseSecretsKey(randomBytes(32).toString("base64"))).toHaveLength(32);
    expect(parseSecretsKey(randomBytes(16).toString("base64"))).toBeUndefined();
    expect(parseSecretsKey("not a key at all, just words here and more!!")).toBeUndefined();
  });
});
