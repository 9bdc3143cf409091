// kms_roundtrip.mjs: the AWS SDK for JavaScript v3 against a live moat: STS
// GetCallerIdentity, then KMS Encrypt/Decrypt and Sign/Verify, the signature also
// checked with node's own crypto against GetPublicKey. Prints one JSON line.
// Environment: MOAT_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION.
import { createPublicKey, verify } from "node:crypto";
import {
  KMSClient, CreateKeyCommand, EncryptCommand, DecryptCommand, SignCommand, VerifyCommand,
  GetPublicKeyCommand,
} from "@aws-sdk/client-kms";
import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";

const config = {
  endpoint: process.env.MOAT_ENDPOINT,
  region: process.env.AWS_REGION || "us-east-1",
  maxAttempts: 1,
};

function check(cond, what) {
  if (!cond) {
    throw new Error("check failed: " + what);
  }
}

async function main() {
  const sts = new STSClient(config);
  const ident = await sts.send(new GetCallerIdentityCommand({}));

  const kms = new KMSClient(config);
  const sym = await kms.send(new CreateKeyCommand({ Description: "js sdk" }));
  const keyId = sym.KeyMetadata.KeyId;
  const plaintext = new TextEncoder().encode("secret from javascript");
  const context = { app: "js", run: "1" };
  const enc = await kms.send(new EncryptCommand({
    KeyId: keyId, Plaintext: plaintext, EncryptionContext: context,
  }));
  const dec = await kms.send(new DecryptCommand({
    CiphertextBlob: enc.CiphertextBlob, EncryptionContext: context,
  }));
  check(Buffer.from(dec.Plaintext).equals(Buffer.from(plaintext)), "Decrypt gives the plaintext back");
  check(dec.KeyId === sym.KeyMetadata.Arn, "Decrypt names the key");
  let wrongContext = "";
  try {
    await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: { app: "other" } }));
  } catch (e) {
    wrongContext = e.name;
  }

  const signer = await kms.send(new CreateKeyCommand({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" }));
  const message = new TextEncoder().encode("message signed through the JS SDK");
  const sig = await kms.send(new SignCommand({
    KeyId: signer.KeyMetadata.KeyId, Message: message, MessageType: "RAW", SigningAlgorithm: "ECDSA_SHA_256",
  }));
  const ver = await kms.send(new VerifyCommand({
    KeyId: signer.KeyMetadata.KeyId, Message: message, Signature: sig.Signature,
    SigningAlgorithm: "ECDSA_SHA_256",
  }));
  const pub = await kms.send(new GetPublicKeyCommand({ KeyId: signer.KeyMetadata.KeyId }));
  const key = createPublicKey({ key: Buffer.from(pub.PublicKey), format: "der", type: "spki" });
  const localOk = verify("sha256", Buffer.from(message), key, Buffer.from(sig.Signature));
  let badSignature = "";
  try {
    await kms.send(new VerifyCommand({
      KeyId: signer.KeyMetadata.KeyId, Message: new TextEncoder().encode("tampered"),
      Signature: sig.Signature, SigningAlgorithm: "ECDSA_SHA_256",
    }));
  } catch (e) {
    badSignature = e.name;
  }
  console.log(JSON.stringify({
    account: ident.Account,
    arn: ident.Arn,
    decrypted: Buffer.from(dec.Plaintext).toString(),
    encryptionAlgorithm: enc.EncryptionAlgorithm,
    wrongContext,
    signatureValid: ver.SignatureValid,
    signingAlgorithm: sig.SigningAlgorithm,
    localVerify: localOk,
    badSignature,
  }));
}

main().catch((e) => {
  console.error(e.name + ": " + e.message);
  process.exit(1);
});
