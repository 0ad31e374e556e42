// @peculiar/x509 (through tsyringe) needs the Reflect metadata API before it loads.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { generateKeyPair, generateKeyPairSync, createPublicKey, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { isIP } from 'node:net';
import { certificateSerial, loadPrivateKey } from '../v3-crypto.ts';
import { digits } from './ids.ts';

/**
 * Key material of the simulated WeChat Pay side (protocols.md §A.4, §G): one key pair behind the
 * platform certificate and a *different* one behind the WeChat Pay public key, so a client that
 * verifies a PUB_KEY_ID_ answer with the certificate (or the reverse) fails as it would in
 * production. Merchant API certificates are issued by the platform key acting as sandbox CA.
 */

x509.cryptoProvider.set(webcrypto);

const generateKeyPairAsync = promisify(generateKeyPair);
const RSA_SIGN = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
const CA_NAME = 'C=CN, O=Tenpay.com, OU=Tenpay.com CA Center, CN=Tenpay.com Sandbox Root CA';
const YEAR_MS = 365 * 24 * 3600 * 1000;

export interface PemKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

/** Persisted form (state file). Simulator-only private keys: they stand in for WeChat's own. */
export interface PlatformKeyMaterial {
  certPrivateKeyPem: string;
  certPem: string;
  pubKeyPrivateKeyPem: string;
  pubKeyPem: string;
  /** Certificates replaced by a rotation: no longer used to sign, still listed until they expire. */
  previousCertPems?: string[];
}

export interface PlatformKeys {
  material: PlatformKeyMaterial;
  certSerial: string;
  certKey: KeyObject;
  pubKeyKey: KeyObject;
  certNotBefore: number;
  certNotAfter: number;
}

function toPems(pair: { privateKey: KeyObject; publicKey: KeyObject }): PemKeyPair {
  return {
    privateKeyPem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicKeyPem: pair.publicKey.export({ type: 'spki', format: 'pem' }) as string,
  };
}

export async function generateRsaPair(): Promise<PemKeyPair> {
  return toPems(await generateKeyPairAsync('rsa', { modulusLength: 2048 }));
}

export function generateRsaPairSync(): PemKeyPair {
  return toPems(generateKeyPairSync('rsa', { modulusLength: 2048 }));
}

/** 20-byte upper-case hex serial with a non-zero first byte below 0x80 (positive, no padding ambiguity). */
export function randomCertSerial(): string {
  const bytes = randomBytes(20);
  bytes[0] = 0x10 + ((bytes[0] ?? 0) % 0x70);
  return bytes.toString('hex').toUpperCase();
}

/** PUB_KEY_ID_ + "01" + mchid + yyyyMMdd + sequence, the shape of the vectors' id; always ≥ 30 digits. */
export function publicKeyIdFor(mchid: string, now: number): string {
  const date = new Date(now + 8 * 3600 * 1000).toISOString().slice(0, 10).replace(/-/g, '');
  const head = `01${mchid}${date}`;
  return `PUB_KEY_ID_${head}${digits(Math.max(14, 32 - head.length))}`;
}

async function importSigningKey(privateKeyPem: string): Promise<webcrypto.CryptoKey> {
  const der = loadPrivateKey(privateKeyPem).export({ type: 'pkcs8', format: 'der' });
  return webcrypto.subtle.importKey('pkcs8', der, RSA_SIGN, false, ['sign']);
}

async function importPublicKey(publicKeyPem: string): Promise<webcrypto.CryptoKey> {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return webcrypto.subtle.importKey('spki', der, RSA_SIGN, true, ['verify']);
}

export async function issueCertificate(args: {
  issuerPrivateKeyPem: string;
  subjectPublicKeyPem: string;
  serial: string;
  subject: string;
  ca: boolean;
  /** Subject alternative names of a TLS server certificate (IP addresses or host names). */
  altNames?: string[];
}): Promise<string> {
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: args.serial,
    subject: args.subject,
    issuer: CA_NAME,
    notBefore: new Date(now - 24 * 3600 * 1000),
    notAfter: new Date(now + 5 * YEAR_MS),
    signingAlgorithm: RSA_SIGN,
    publicKey: (await importPublicKey(args.subjectPublicKeyPem)),
    signingKey: (await importSigningKey(args.issuerPrivateKeyPem)),
    extensions: [
      new x509.BasicConstraintsExtension(args.ca, undefined, true),
      ...(args.altNames && args.altNames.length > 0
        ? [new x509.SubjectAlternativeNameExtension(args.altNames.map((n) => (isIP(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n })))]
        : []),
    ],
  });
  return cert.toString('pem');
}

export async function generatePlatformMaterial(): Promise<PlatformKeyMaterial> {
  const [certPair, pubKeyPair] = await Promise.all([generateRsaPair(), generateRsaPair()]);
  const certPem = await issueCertificate({
    issuerPrivateKeyPem: certPair.privateKeyPem,
    subjectPublicKeyPem: certPair.publicKeyPem,
    serial: randomCertSerial(),
    subject: CA_NAME,
    ca: true,
  });
  return {
    certPrivateKeyPem: certPair.privateKeyPem,
    certPem,
    pubKeyPrivateKeyPem: pubKeyPair.privateKeyPem,
    pubKeyPem: pubKeyPair.publicKeyPem,
  };
}

/**
 * Certificate rotation (issue 4 item 8): a new platform certificate signs from now on; the
 * previous one stays listed in /v3/certificates until it expires, so clients holding several
 * valid certificates at once keep verifying whatever they receive.
 */
export async function rotatePlatformCertificate(material: PlatformKeyMaterial): Promise<PlatformKeyMaterial> {
  const pair = await generateRsaPair();
  const certPem = await issueCertificate({ issuerPrivateKeyPem: pair.privateKeyPem, subjectPublicKeyPem: pair.publicKeyPem, serial: randomCertSerial(), subject: CA_NAME, ca: true });
  return { ...material, certPrivateKeyPem: pair.privateKeyPem, certPem, previousCertPems: [material.certPem, ...(material.previousCertPems ?? [])].slice(0, 4) };
}

export function loadPlatformKeys(material: PlatformKeyMaterial): PlatformKeys {
  const parsed = new x509.X509Certificate(material.certPem);
  return {
    material,
    certSerial: certificateSerial(material.certPem),
    certKey: loadPrivateKey(material.certPrivateKeyPem),
    pubKeyKey: loadPrivateKey(material.pubKeyPrivateKeyPem),
    certNotBefore: parsed.notBefore.getTime(),
    certNotAfter: parsed.notAfter.getTime(),
  };
}

export function merchantCertSubject(mchid: string): string {
  return `C=CN, O=Polypay Sandbox Merchant ${mchid}, OU=Polypay Sandbox, CN=${mchid}`;
}

/**
 * A few RSA pairs generated in the background, so registerMerchant() (synchronous by contract)
 * rarely has to block the event loop on a 100–200 ms key generation.
 */
export class KeyPool {
  private readonly spare: PemKeyPair[] = [];
  private filling = false;
  private closed = false;

  constructor(private readonly size = 2) {}

  take(): PemKeyPair {
    const pair = this.spare.pop() ?? generateRsaPairSync();
    this.refill();
    return pair;
  }

  refill(): void {
    if (this.filling || this.closed || this.spare.length >= this.size) return;
    this.filling = true;
    generateRsaPair()
      .then((pair) => {
        if (!this.closed) this.spare.push(pair);
      })
      .catch(() => undefined)
      .finally(() => {
        this.filling = false;
        this.refill();
      });
  }

  close(): void {
    this.closed = true;
    this.spare.length = 0;
  }
}
