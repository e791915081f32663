// A local SMTP sink for the browser tests: listens on 127.0.0.1 (a free
// port), speaks just enough SMTP for Plaudit's client, and keeps every
// message with its decoded text part.

import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

function decodeTextPart(data) {
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(data)?.[1];
  const parts = boundary ? data.split(`--${boundary}`) : [data];
  for (const part of parts) {
    const at = part.indexOf('\r\n\r\n');
    if (at < 0) continue;
    const head = part.slice(0, at);
    if (!/content-type:\s*text\/plain/i.test(head)) continue;
    const body = part.slice(at + 4);
    return /content-transfer-encoding:\s*base64/i.test(head)
      ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
      : body;
  }
  return '';
}

export async function startSmtpSink() {
  const messages = [];
  const sockets = new Set();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let buffer = '';
    let inData = false;
    let data = '';
    let rcpt = [];
    const reply = (line) => socket.write(`${line}\r\n`);
    reply('220 sink.test ESMTP');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      let nl;
      while ((nl = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            messages.push({ to: rcpt, data, text: decodeTextPart(data) });
            reply('250 OK queued');
          } else {
            data += `${line.startsWith('.') ? line.slice(1) : line}\r\n`;
          }
          continue;
        }
        const cmd = line.toUpperCase();
        if (cmd.startsWith('EHLO') || cmd.startsWith('HELO')) socket.write('250-sink.test\r\n250 8BITMIME\r\n');
        else if (cmd.startsWith('MAIL FROM:')) {
          rcpt = [];
          reply('250 OK');
        } else if (cmd.startsWith('RCPT TO:')) {
          rcpt.push(line.slice(8).trim().replace(/^<|>.*$/g, ''));
          reply('250 OK');
        } else if (cmd === 'DATA') {
          inData = true;
          data = '';
          reply('354 go ahead');
        } else if (cmd === 'QUIT') {
          reply('221 Bye');
          socket.end();
        } else if (cmd === 'RSET' || cmd === 'NOOP') reply('250 OK');
        else reply('502 not implemented');
      }
    });
    socket.on('error', () => {});
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    /** Waits for a message to `to` whose text matches `pattern`. */
    async waitFor(to, pattern, timeout = 15_000) {
      const deadline = Date.now() + timeout;
      for (;;) {
        const found = messages.find((m) => m.to.includes(to) && pattern.test(m.text));
        if (found) return found;
        if (Date.now() > deadline) {
          throw new Error(`no mail to ${to} matching ${pattern}; got ${JSON.stringify(messages.map((m) => m.to))}`);
        }
        await sleep(100);
      }
    },
    /** Stops listening and drops the connections the client keeps open. */
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
