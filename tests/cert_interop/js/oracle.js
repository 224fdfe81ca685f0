// sm-crypto oracle for tests/cert_interop/test_interop_js.py.
// Reads one JSON request per line on stdin, writes one JSON answer per line on stdout.
'use strict';
const readline = require('readline');
const { sm2 } = require('sm-crypto');

function handle(req) {
  switch (req.op) {
    case 'keygen': {
      const kp = sm2.generateKeyPairHex();
      return { priv: kp.privateKey, pub: kp.publicKey };
    }
    case 'sign':
      return { sig: sm2.doSignature(req.msg, req.priv, { hash: true, der: true }) };
    case 'verify':
      return { ok: sm2.doVerifySignature(req.msg, req.sig, req.pub, { hash: true, der: true }) };
    case 'encrypt':
      return { ct: sm2.doEncrypt(req.msg, req.pub, req.mode) };
    case 'decrypt':
      return { pt: sm2.doDecrypt(req.ct, req.priv, req.mode, { output: 'array' }) };
    default:
      throw new Error('unknown op ' + req.op);
  }
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  let out;
  try {
    out = handle(JSON.parse(line));
  } catch (e) {
    out = { error: String(e) };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
});
