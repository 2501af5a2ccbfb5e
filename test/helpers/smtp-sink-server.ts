// A real SMTP server process for tests (the smtp-server package): STARTTLS, or implicit TLS with
// SMTP_SECURE=1, with the certificate and key in SMTP_CERT/SMTP_KEY (else the package's built-in
// one), AUTH PLAIN/LOGIN against SMTP_USER/SMTP_PASS, every message saved as an .eml file.
// Prints `listening <port>` when ready. Usage: tsx smtp-sink-server.ts DIR [PORT]
import fs from 'node:fs';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';

const [dir, port = '0'] = process.argv.slice(2);
if (!dir) throw new Error('usage: smtp-sink-server.ts DIR [PORT]');
fs.mkdirSync(dir, { recursive: true });
let n = 0;
const { SMTP_CERT: cert, SMTP_KEY: key } = process.env;
const server = new SMTPServer({
  secure: process.env.SMTP_SECURE === '1',
  ...(cert && key ? { cert: fs.readFileSync(cert), key: fs.readFileSync(key) } : {}),
  authMethods: ['PLAIN', 'LOGIN'],
  authOptional: !process.env.SMTP_USER,
  onAuth(auth, _session, cb) {
    if (auth.username === process.env.SMTP_USER && auth.password === process.env.SMTP_PASS) cb(null, { user: auth.username });
    else cb(new Error('535 5.7.8 authentication failed'));
  },
  onData(stream, session, cb) {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const name = path.join(dir, `${String(++n).padStart(6, '0')}-${process.pid}.eml`);
      const meta = `X-Test-Secure: ${session.secure}\r\nX-Test-User: ${session.user ?? ''}\r\n`;
      fs.writeFileSync(`${name}.tmp`, Buffer.concat([Buffer.from(meta), ...chunks]));
      fs.renameSync(`${name}.tmp`, name);
      cb();
    });
  },
});
// A client that hangs up mid-handshake (it refused our certificate) is that connection's end, not the server's.
server.on('error', (err) => process.stderr.write(`smtp sink: ${err.message}\n`));
server.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.server.address() as { port: number }).port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
