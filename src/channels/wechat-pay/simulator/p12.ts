import forge from 'node-forge';

/**
 * The merchant API certificate as WeChat hands it out: apiclient_cert.p12, password = mch_id
 * (protocols.md §B.1). node-forge builds the PKCS#12 (Node's crypto reads PFX files but cannot
 * write them); AES-256 key encryption keeps it loadable by OpenSSL 3 without the legacy provider.
 */
export function merchantP12(certificatePem: string, privateKeyPem: string, mchid: string): string {
  const key = forge.pki.privateKeyFromPem(privateKeyPem);
  const cert = forge.pki.certificateFromPem(certificatePem);
  const p12 = forge.pkcs12.toPkcs12Asn1(key, [cert], mchid, { algorithm: 'aes256', friendlyName: 'Tenpay Certificate' });
  return forge.util.encode64(forge.asn1.toDer(p12).getBytes());
}
