// A real SMTP server process for tests (the smtp-server package): STARTTLS with its built-in
// certificate, AUTH PLAIN/LOGIN against SMTP_USER/SMTP_PASS, every message saved as an .eml file.
// Prints `listening <port>` when ready. Usage: tsx smtp-sink-server.ts DIR [PORT]
import fs from 'node:fs';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';

const [dir, port = '0'] = process.argv.slice(2);
if (!dir) throw new Error('usage: smtp-sink-server.ts DIR [PORT]');
fs.mkdirSync(dir, { recursive: true });
let n = 0;
const server = new SMTPServer({
  secure: false,
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
server.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(`listening ${(server.server.address() as { port: number }).port}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
