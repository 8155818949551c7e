#!/usr/bin/env python3
"""A small OAuth 2 authorization server for tests on 127.0.0.1: it issues
bearer tokens and answers Dovecot's token introspection (RFC 7662), the
role Google's or Microsoft's servers play for a real account.

  oauth_server.py serve PORT DIR LIFE USER
      listens on 127.0.0.1:PORT.  GET /token issues a new token for USER
      that lives LIFE seconds and answers it as the body (GET
      /token?expired=1: one that has expired already); POST /introspect
      (form field token=...) answers {"active": true, "username": USER}
      for a token it issued that has not expired, else {"active": false}.
      Appends "issued TOKEN TIME", then "ok TOKEN TIME", "expired TOKEN
      TIME" or "unknown TOKEN TIME" per introspection to DIR/oauth.log
      (TIME: seconds since the epoch, to the microsecond); prints "ready"
      once it listens.
  oauth_server.py token PORT [expired-once FILE]
      the token command: prints a new token (GET /token); with
      expired-once, an expired one when FILE does not exist yet (it is
      created then), as a command that caches tokens may hand out.
"""
import http.server
import json
import os
import secrets
import sys
import time
import urllib.parse
import urllib.request


def serve(port, logdir, life, user):
    issued = {}
    log = open(f'{logdir}/oauth.log', 'a', buffering=1)

    class Handler(http.server.BaseHTTPRequestHandler):
        def answer(self, body, ctype='application/json'):
            data = body.encode()
            self.send_response(200)
            self.send_header('Content-Type', ctype)
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path not in ('/token', '/token?expired=1'):
                self.send_error(404)
                return
            tok = 'tok-' + secrets.token_hex(16)
            issued[tok] = time.monotonic() + (-1 if self.path.endswith('=1') else life)
            log.write(f'issued {tok} {time.time():.6f}\n')
            self.answer(tok + '\n', 'text/plain')

        def do_POST(self):
            n = int(self.headers.get('Content-Length', '0'))
            form = urllib.parse.parse_qs(self.rfile.read(n).decode())
            tok = form.get('token', [''])[0]
            if tok not in issued:
                verdict = 'unknown'
            elif time.monotonic() > issued[tok]:
                verdict = 'expired'
            else:
                verdict = 'ok'
            log.write(f'{verdict} {tok} {time.time():.6f}\n')
            body = {'active': True, 'username': user} if verdict == 'ok' else {'active': False}
            self.answer(json.dumps(body))

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(('127.0.0.1', port), Handler)
    print('ready', flush=True)
    srv.serve_forever()


def main():
    if sys.argv[1] == 'serve':
        serve(int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), sys.argv[5])
    elif sys.argv[1] == 'token':
        query = ''
        if sys.argv[3:4] == ['expired-once'] and not os.path.exists(sys.argv[4]):
            open(sys.argv[4], 'w').close()
            query = '?expired=1'
        with urllib.request.urlopen(f'http://127.0.0.1:{sys.argv[2]}/token{query}',
                                    timeout=10) as r:
            sys.stdout.write(r.read().decode())
    else:
        sys.exit(f'usage: {sys.argv[0]} serve PORT DIR LIFE USER | token PORT [expired-once FILE]')


if __name__ == '__main__':
    main()
