import { X509Certificate, createPrivateKey, createPublicKey, randomInt, type KeyObject } from 'node:crypto';
import { generateRsaPair, issueCertificate, randomSerial } from '../../sandbox/certs.ts';
import { UNIONPAY_CN, buildPfx, decimalSerial } from '../certs.ts';

/**
 * The simulated UnionPay's PKI (protocols.md §D.3, §G): a sandbox root and middle CA standing in
 * for CFCA's (acp_prod_root.cer / acp_prod_middle.cer), UnionPay's signing certificate issued by
 * the middle (CN `…@中国银联股份有限公司@…`, so the SDK's CN check passes), and the key of the
 * service-provider JSON gateway (its public key is handed out bare, like ysfpayPublicKey).
 * Merchant signing certificates are issued by the same middle CA — which is why a client must
 * check the CN and not only the chain: another merchant's certificate chains just as well.
 */

const ROOT_NAME = 'C=CN, O=China Financial Certification Authority, CN=CFCA ACS CA (Polypay sandbox)';
const MIDDLE_NAME = 'C=CN, O=China Financial Certification Authority, CN=CFCA ACS OCA31 (Polypay sandbox)';

export interface KeyMaterial {
  rootPrivateKeyPem: string;
  rootCertPem: string;
  middlePrivateKeyPem: string;
  middleCertPem: string;
  signPrivateKeyPem: string;
  signCertPem: string;
  spPrivateKeyPem: string;
  spPublicKeyPem: string;
  /** Fault `foreignSignCert`: UnionPay's names and CN, but issued by a key outside the published chain. */
  foreignSignPrivateKeyPem: string;
  foreignSignCertPem: string;
}

export interface SimKeys {
  material: KeyMaterial;
  signKey: KeyObject;
  foreignSignKey: KeyObject;
  spKey: KeyObject;
  /** The bare base64 SPKI of the service-provider gateway key (what Jeepay calls ysfpayPublicKey). */
  spPublicKeyBase64: string;
}

export async function generateKeyMaterial(): Promise<KeyMaterial> {
  const [root, middle, sign, sp, impostor, foreign] = await Promise.all([generateRsaPair(), generateRsaPair(), generateRsaPair(), generateRsaPair(), generateRsaPair(), generateRsaPair()]);
  const rootCertPem = await issueCertificate({ subject: ROOT_NAME, subjectPublicKeyPem: root.publicKeyPem, issuerPrivateKeyPem: root.privateKeyPem, ca: true });
  const middleCertPem = await issueCertificate({ subject: MIDDLE_NAME, issuer: ROOT_NAME, subjectPublicKeyPem: middle.publicKeyPem, issuerPrivateKeyPem: root.privateKeyPem, ca: true });
  const unionPaySubject = `C=CN, O=China Financial Certification Authority, OU=Local RA, CN=041@Z12400000000000@${UNIONPAY_CN}@00000001`;
  const signCertPem = await issueCertificate({ subject: unionPaySubject, issuer: MIDDLE_NAME, subjectPublicKeyPem: sign.publicKeyPem, issuerPrivateKeyPem: middle.privateKeyPem, ca: false });
  // Same issuer name as the real middle, signed by an impostor key: only the signature check of the link can tell.
  const foreignSignCertPem = await issueCertificate({ subject: unionPaySubject, issuer: MIDDLE_NAME, subjectPublicKeyPem: foreign.publicKeyPem, issuerPrivateKeyPem: impostor.privateKeyPem, ca: false });
  return {
    rootPrivateKeyPem: root.privateKeyPem,
    rootCertPem,
    middlePrivateKeyPem: middle.privateKeyPem,
    middleCertPem,
    signPrivateKeyPem: sign.privateKeyPem,
    signCertPem,
    spPrivateKeyPem: sp.privateKeyPem,
    spPublicKeyPem: sp.publicKeyPem,
    foreignSignPrivateKeyPem: foreign.privateKeyPem,
    foreignSignCertPem,
  };
}

export function loadKeys(material: KeyMaterial): SimKeys {
  return {
    material,
    signKey: createPrivateKey(material.signPrivateKeyPem),
    foreignSignKey: createPrivateKey(material.foreignSignPrivateKeyPem),
    spKey: createPrivateKey(material.spPrivateKeyPem),
    spPublicKeyBase64: (createPublicKey(material.spPublicKeyPem).export({ type: 'spki', format: 'der' }) as Buffer).toString('base64'),
  };
}

export interface IssuedCertificate {
  /** base64 PKCS#12 (the .pfx file), protected by `password`. */
  pfxBase64: string;
  password: string;
  certificatePem: string;
  certId: string;
}

/** A fresh signing certificate for a merchant or service provider, packed as the PFX UnionPay's certificate tool downloads. */
export async function issueSigningPfx(material: KeyMaterial, owner: string, password = String(randomInt(100000, 1000000))): Promise<IssuedCertificate> {
  const pair = await generateRsaPair();
  // A short serial, like CFCA's (vectors: 0x1013472121 → certId 69042905377).
  const certificatePem = await issueCertificate({
    subject: `C=CN, O=China Financial Certification Authority, OU=Local RA, CN=041@Z${owner}@${owner}:SIGN@00000001`,
    issuer: MIDDLE_NAME,
    subjectPublicKeyPem: pair.publicKeyPem,
    issuerPrivateKeyPem: material.middlePrivateKeyPem,
    ca: false,
    serialNumber: randomSerial(5),
  });
  return { pfxBase64: buildPfx(pair.privateKeyPem, [certificatePem], password), password, certificatePem, certId: decimalSerial(new X509Certificate(certificatePem)) };
}
