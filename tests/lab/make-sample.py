#!/usr/bin/env python3
# tests/lab/make-sample.py FIXTURE OUT — writes share/tlstriage/samples/error.log: 20 simulated
# minutes of a busy nginx's error.log (level info) — ordinary traffic typed in nginx's exact
# formats — interleaved with upstream TLS failures whose messages are taken verbatim from
# FIXTURE (the real lab capture, tests/lab/fixtures/nginx-1.22.1-error.log). Deterministic.
import random
import re
import sys
from datetime import datetime, timedelta

rnd = random.Random(20260314)
START = datetime(2026, 3, 14, 10, 0, 0)
SPAN = 20 * 60


def real_messages(path):
    """message text (from after '*N ' up to ', client:') keyed by a short tag"""
    msgs = {}
    pat = re.compile(rb"\[error\] \d+#\d+: \*\d+ (.*?), client: ")
    with open(path, "rb") as f:
        for line in f:
            m = pat.search(line)
            if not m:
                continue
            text = m.group(1).decode("latin-1")
            for tag, needle in TAGS.items():
                if needle in text and tag not in msgs:
                    msgs[tag] = text
    missing = [t for t in TAGS if t not in msgs]
    if missing:
        sys.exit("make-sample: fixture lacks %s" % ", ".join(missing))
    return msgs


TAGS = {
    "v21": "(21:unable to verify the first certificate)",
    "v18": "(18:self-signed certificate)",
    "v10": "(10:certificate has expired)",
    "v20": "(20:unable to get local issuer certificate)",
    "ip": 'does not match "127.0.0.1"',
    "wrongver": "wrong version number",
    "timeout": "upstream timed out (110: Connection timed out) while SSL handshaking",
}

CLIENTS = ["203.0.113.%d" % i for i in (7, 19, 23, 41, 58, 77, 102, 131, 164, 201, 222, 250)] + \
    ["198.51.100.%d" % i for i in (4, 12, 33, 90, 145)] + ["192.0.2.%d" % i for i in (8, 44, 61)]
STATIC = ["/favicon.ico", "/apple-touch-icon.png", "/static/img/logo@2x.png",
          "/static/js/app.3f9c1e.js.map", "/robots.txt", "/wp-login.php", "/.env",
          "/static/css/print.css", "/images/products/sku-44120-large.jpg"]
API = ["/api/v1/cart", "/api/v1/orders?page=2", "/api/v1/search?q=running+shoes",
       "/api/v1/products/44120", "/api/v1/session", "/api/v1/recommendations"]
PAY = ["/pay/v2/authorize", "/pay/v2/capture", "/pay/v2/status/8f2c0d1e"]


WORKERS = (31337, 31338, 31339, 31340)
lines = []  # (seconds, pid or None, text with {conn} for the connection number)


def emit(t, level, msg, conn=True):
    pid = rnd.choice(WORKERS)
    ts = (START + timedelta(seconds=t)).strftime("%Y/%m/%d %H:%M:%S")
    head = "%s [%s] %d#%d: " % (ts, level, pid, pid)
    msg = msg.replace("{", "{{").replace("}", "}}")
    lines.append((t, head + ("*{conn} " if conn else "") + msg))


def ctx(client, server, request, host, upstream=None, referrer=None):
    s = ', client: %s, server: %s, request: "%s"' % (client, server, request)
    if upstream:
        s += ', upstream: "%s"' % upstream
    s += ', host: "%s"' % host
    if referrer:
        s += ', referrer: "%s"' % referrer
    return s


def ordinary(t):
    c = rnd.choice(CLIENTS)
    k = rnd.random()
    if k < 0.26:
        p = rnd.choice(STATIC)
        emit(t, "error", 'open() "/var/www/shop%s" failed (2: No such file or directory)' % p +
             ctx(c, "shop.example.com", "GET %s HTTP/2.0" % p, "shop.example.com",
                 referrer="https://shop.example.com/"))
    elif k < 0.42:
        emit(t, "info", "client %s closed keepalive connection" % c)
    elif k < 0.50:
        emit(t, "info", "client closed connection while waiting for request, client: %s, "
             "server: 0.0.0.0:443" % c)
    elif k < 0.58:
        p = rnd.choice(API)
        emit(t, "error", 'limiting requests, excess: %d.%03d by zone "api"' %
             (rnd.randint(5, 30), rnd.randint(0, 999)) +
             ctx(c, "shop.example.com", "GET %s HTTP/1.1" % p, "shop.example.com"))
    elif k < 0.64:
        p = rnd.choice(API)
        emit(t, "error", "upstream prematurely closed connection while reading response header "
             "from upstream" + ctx(c, "shop.example.com", "POST %s HTTP/1.1" % p,
                                   "shop.example.com", upstream="http://127.0.0.1:8080" + p))
    elif k < 0.69:
        p = rnd.choice(API)
        emit(t, "error", "upstream timed out (110: Connection timed out) while reading response "
             "header from upstream" + ctx(c, "shop.example.com", "GET %s HTTP/1.1" % p,
                                          "shop.example.com", upstream="http://127.0.0.1:8080" + p))
    elif k < 0.74:
        emit(t, "warn", "an upstream response is buffered to a temporary file "
             "/var/cache/nginx/proxy_temp/%d/%02d/00000%05d while reading upstream" %
             (rnd.randint(0, 9), rnd.randint(0, 99), rnd.randint(0, 99999)) +
             ctx(c, "shop.example.com", "GET /api/v1/orders/export.csv HTTP/1.1",
                 "shop.example.com", upstream="http://127.0.0.1:8080/api/v1/orders/export.csv"))
    elif k < 0.78:
        emit(t, "warn", "a client request body is buffered to a temporary file "
             "/var/cache/nginx/client_temp/00000%05d" % rnd.randint(0, 99999) +
             ctx(c, "shop.example.com", "POST /api/v1/reviews/upload HTTP/1.1",
                 "shop.example.com"))
    elif k < 0.83:
        p = rnd.choice(["/.git/config", "/admin/", "/server-status", "/.env"])
        emit(t, "error", "access forbidden by rule" +
             ctx("45.155.205.%d" % rnd.randint(2, 250), "shop.example.com", "GET %s HTTP/1.1" % p,
                 "shop.example.com"))
    elif k < 0.88:
        emit(t, "info", "SSL_do_handshake() failed (SSL: error:0A000102:SSL routines::unsupported "
             "protocol) while SSL handshaking, client: %s, server: 0.0.0.0:443" % c)
    elif k < 0.91:
        emit(t, "crit", "SSL_do_handshake() failed (SSL: error:0A00006C:SSL routines::bad key "
             "share) while SSL handshaking, client: %s, server: 0.0.0.0:443" % c)
    elif k < 0.95:
        emit(t, "info", "client prematurely closed connection while reading client request body" +
             ctx(c, "shop.example.com", "POST /api/v1/reviews/upload HTTP/1.1",
                 "shop.example.com"))
    else:
        emit(t, "error", "client intended to send too large body: %d bytes" %
             rnd.randint(1100000, 9000000) +
             ctx(c, "shop.example.com", "POST /api/v1/reviews/upload HTTP/1.1",
                 "shop.example.com"))


def tls(t, msgs, tag, upstream, path, host, server="shop.example.com", method="GET"):
    msg = msgs[tag]
    emit(t, "error", msg + ctx(rnd.choice(CLIENTS), server, "%s %s HTTP/1.1" % (method, path),
                               host, upstream=upstream + path))


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: make-sample.py FIXTURE OUT")
    msgs = real_messages(sys.argv[1])
    for _ in range(230):
        ordinary(rnd.uniform(0, SPAN))

    # 10:04-10:13 payments: renewed certificate deployed without its intermediate (21), fixed
    # by a reload at 10:13.
    for _ in range(38):
        tls(rnd.uniform(240, 780), msgs, "v21", "https://10.0.3.15:443", rnd.choice(PAY),
            "shop.example.com", method="POST")
    # Inventory reached by IP literal: the name check fails on "10.0.2.88" all along.
    ip_msg = msgs["ip"].replace('"127.0.0.1"', '"10.0.2.88"')
    msgs["ip88"] = ip_msg
    for _ in range(14):
        tls(rnd.uniform(0, SPAN), msgs, "ip88", "https://10.0.2.88:8443",
            "/inventory/v1/stock/%d" % rnd.randint(1000, 9999), "shop.example.com")
    # Legacy reporting backend with an expired certificate.
    for _ in range(6):
        tls(rnd.uniform(300, SPAN), msgs, "v10", "https://10.0.9.4:8443", "/reports/daily",
            "admin.example.com", server="admin.example.com")
    # A staging upstream someone pointed at the plain-HTTP port.
    for _ in range(5):
        tls(rnd.uniform(600, 720), msgs, "wrongver", "https://10.0.2.91:8080",
            "/api/v1/recommendations", "shop.example.com")
    # A self-signed certificate on the search cluster after a rebuild.
    for _ in range(7):
        tls(rnd.uniform(900, SPAN), msgs, "v18", "https://10.0.4.31:9200", "/products/_search",
            "shop.example.com", method="POST")
    # Handshake time-outs to a stalled upstream.
    for _ in range(3):
        tls(rnd.uniform(500, 560), msgs, "timeout", "https://10.0.3.16:443", "/pay/v2/status/1",
            "shop.example.com")
    # Stream: redis over TLS behind nginx, private CA missing from the trusted file.
    for _ in range(5):
        t = rnd.uniform(100, 400)
        emit(t, "error", msgs["v20"] + ", client: 10.0.5.%d, server: 0.0.0.0:6379, upstream: "
             '"10.0.4.20:6380", bytes from/to client:0/0, bytes from/to upstream:0/0' %
             rnd.randint(2, 60))

    # The reload at 10:13 (new worker pids afterwards for lines later than that).
    reload_t = 780.0
    master = 31336
    ts = (START + timedelta(seconds=reload_t)).strftime("%Y/%m/%d %H:%M:%S")
    lines.append((reload_t, "%s [notice] 4242#4242: signal process started" % ts))
    lines.append((reload_t + 0.01, "%s [notice] %d#%d: signal 1 (SIGHUP) received from 4242, "
                  "reconfiguring" % (ts, master, master)))
    lines.append((reload_t + 0.02, "%s [notice] %d#%d: reconfiguring" % (ts, master, master)))
    lines.append((reload_t + 0.03, "%s [notice] %d#%d: using the \"epoll\" event method" %
                  (ts, master, master)))
    lines.append((reload_t + 0.04, "%s [notice] %d#%d: start worker processes" %
                  (ts, master, master)))
    for i, p in enumerate((31901, 31902, 31903, 31904)):
        lines.append((reload_t + 0.05 + i * 0.001, "%s [notice] %d#%d: start worker process %d" %
                      (ts, master, master, p)))
    for i, p in enumerate((31337, 31338, 31339, 31340)):
        lines.append((reload_t + 0.1 + i * 0.001, "%s [notice] %d#%d: gracefully shutting down" %
                      (ts, p, p)))
    new = {31337: 31901, 31338: 31902, 31339: 31903, 31340: 31904}

    # Connection numbers come from one counter shared by all workers (and kept across the
    # reload), so they grow with time.
    out = []
    conn = 7_402_113
    for t, text in sorted(lines, key=lambda x: x[0]):
        if t > reload_t + 0.2:
            for old, nw in new.items():
                text = text.replace(" %d#%d: " % (old, old), " %d#%d: " % (nw, nw))
        if "*{conn}" in text:
            conn += rnd.randint(1, 60)
        out.append(text.format(conn=conn) if "{" in text else text)
    with open(sys.argv[2], "w", encoding="latin-1") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
