// Why the official Node SDK is slow per call: it hands PEM strings to node's crypto on every request
// (`signatureV3` / `verifySignatureV3` in alipay-sdk), so OpenSSL decodes the key each time. This times
// one RSA-2048 SHA256withRSA signature and verification with a PEM string and with a parsed KeyObject.
//
//   node bench/node-crypto-cost.mjs
import crypto from 'node:crypto';

const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = privateKey.export({ type: 'pkcs1', format: 'pem' });
const publicPem = publicKey.export({ type: 'spki', format: 'pem' });
const text =
  'app_id=2021000000000001,nonce=0b7a1d0c-9e3f-4a5b-8c7d-6e5f4a3b2c1d,timestamp=1717756911576\nGET\n' +
  '/v3/zhima/customer/jobworth/authentication?conn_key=c&once_token=t&query_type=exact&identity_type=04\n\n';
const signature = crypto.createSign('RSA-SHA256').update(text, 'utf-8').sign(privateKey, 'base64');

function time(name, fn, n) {
  fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  const us = Number(process.hrtime.bigint() - start) / 1e3 / n;
  console.log(`${name.padEnd(34)} ${us.toFixed(1).padStart(8)} µs`);
}

time('sign, PEM string (as the SDK does)', () => crypto.createSign('RSA-SHA256').update(text, 'utf-8').sign(privatePem, 'base64'), 1000);
time('sign, KeyObject', () => crypto.createSign('RSA-SHA256').update(text, 'utf-8').sign(privateKey, 'base64'), 1000);
time('verify, PEM string (as the SDK does)', () => crypto.createVerify('RSA-SHA256').update(text, 'utf-8').verify(publicPem, signature, 'base64'), 10000);
time('verify, KeyObject', () => crypto.createVerify('RSA-SHA256').update(text, 'utf-8').verify(publicKey, signature, 'base64'), 10000);
