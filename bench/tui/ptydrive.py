#!/usr/bin/env python3
"""ptydrive.py - bench/tui's driver: runs `tlstriage watch` in a real pty (80x24 set with
TIOCSWINSZ, TERM=xterm-256color, LANG=C.UTF-8), timestamps every byte it sends, and keeps a
small screen model (the VT100/xterm subset ncurses uses for xterm-256color) so a measurement
can wait for text on the screen. Standard library only. Called by bench/tui/run.sh:

  ptydrive.py outage FILE [MIN] [PER_S]   append a last hour with an outage to FILE
  ptydrive.py startup TT LOG              first frame, the notice gone, the whole hour read
  ptydrive.py flood TT DIR WRITER RATE    keys, redraws and CPU under the writer's flood
  ptydrive.py bytes TT DIR                bytes to the terminal: idle, and a ticking count

Every measurement prints one JSON object on stdout.
"""
import codecs
import fcntl
import json
import os
import random
import re
import select
import signal
import statistics
import struct
import subprocess
import sys
import termios
import time

W, H = 80, 24
CLK_TCK = os.sysconf("SC_CLK_TCK")


class Screen:
    """The cells of an 80x24 terminal, fed with what the program writes."""

    CSI = re.compile(r"\x1b\[([?>=]?)([0-9;]*)([ -/]*)([@-~])")

    def __init__(self, w=W, h=H):
        self.w, self.h = w, h
        self.cells = [[" "] * w for _ in range(h)]
        self.x = self.y = 0
        self.top, self.bot = 0, h - 1
        self.wrap = False
        self.saved = (0, 0)
        self.last = " "
        self.dec = codecs.getincrementaldecoder("utf-8")("replace")
        self.pending = ""

    def text(self):
        return "\n".join("".join(r) for r in self.cells)

    def line(self, y):
        return "".join(self.cells[y])

    def _scroll_up(self, n=1):
        for _ in range(n):
            del self.cells[self.top]
            self.cells.insert(self.bot, [" "] * self.w)

    def _scroll_down(self, n=1):
        for _ in range(n):
            del self.cells[self.bot]
            self.cells.insert(self.top, [" "] * self.w)

    def _lf(self):
        if self.y == self.bot:
            self._scroll_up()
        elif self.y < self.h - 1:
            self.y += 1

    def _put(self, ch):
        if self.wrap:
            self.x = 0
            self._lf()
            self.wrap = False
        self.cells[self.y][self.x] = ch
        self.last = ch
        if self.x == self.w - 1:
            self.wrap = True
        else:
            self.x += 1

    def _csi(self, priv, params, final):
        ps = [int(p) if p else 0 for p in params.split(";")] if params else []
        p1 = ps[0] if ps else 0
        n = max(p1, 1)
        self.wrap = False
        if priv:
            return  # private modes (?1049h, ?25l, ...): nothing on the grid
        if final in "Hf":
            self.y = min(max((ps[0] if ps else 1) - 1, 0), self.h - 1)
            self.x = min(max((ps[1] if len(ps) > 1 else 1) - 1, 0), self.w - 1)
        elif final == "A":
            self.y = max(self.y - n, 0)
        elif final == "B":
            self.y = min(self.y + n, self.h - 1)
        elif final == "C":
            self.x = min(self.x + n, self.w - 1)
        elif final == "D":
            self.x = max(self.x - n, 0)
        elif final == "G":
            self.x = min(n - 1, self.w - 1)
        elif final == "d":
            self.y = min(n - 1, self.h - 1)
        elif final == "K":
            row = self.cells[self.y]
            a, b = {0: (self.x, self.w), 1: (0, self.x + 1), 2: (0, self.w)}.get(p1, (0, 0))
            row[a:b] = [" "] * (b - a)
        elif final == "J":
            if p1 == 0:
                self.cells[self.y][self.x:] = [" "] * (self.w - self.x)
                for r in range(self.y + 1, self.h):
                    self.cells[r] = [" "] * self.w
            elif p1 == 1:
                for r in range(0, self.y):
                    self.cells[r] = [" "] * self.w
                self.cells[self.y][: self.x + 1] = [" "] * (self.x + 1)
            else:
                self.cells = [[" "] * self.w for _ in range(self.h)]
        elif final == "X":
            e = min(self.x + n, self.w)
            self.cells[self.y][self.x:e] = [" "] * (e - self.x)
        elif final == "b":
            for _ in range(n):
                self._put(self.last)
        elif final == "@":
            row = self.cells[self.y]
            row[self.x:self.x] = [" "] * n
            del row[self.w:]
        elif final == "P":
            row = self.cells[self.y]
            del row[self.x:self.x + n]
            row.extend([" "] * (self.w - len(row)))
        elif final == "L" and self.top <= self.y <= self.bot:
            for _ in range(n):
                del self.cells[self.bot]
                self.cells.insert(self.y, [" "] * self.w)
        elif final == "M" and self.top <= self.y <= self.bot:
            for _ in range(n):
                del self.cells[self.y]
                self.cells.insert(self.bot, [" "] * self.w)
        elif final == "S":
            self._scroll_up(n)
        elif final == "T":
            self._scroll_down(n)
        elif final == "r":
            self.top = (ps[0] if ps else 1) - 1
            self.bot = (ps[1] if len(ps) > 1 else self.h) - 1
            self.x = self.y = 0
        # m (colours), h/l, t, n, ...: nothing on the grid

    def feed(self, data):
        s = self.pending + self.dec.decode(data)
        self.pending = ""
        i, n = 0, len(s)
        while i < n:
            c = s[i]
            if c == "\x1b":
                if i + 1 >= n:
                    self.pending = s[i:]
                    return
                nxt = s[i + 1]
                if nxt == "[":
                    m = self.CSI.match(s, i)
                    if m is None:
                        if len(s) - i < 32 and not re.search(r"[@-~]", s[i + 2:]):
                            self.pending = s[i:]
                            return
                        i += 2
                        continue
                    self._csi(m.group(1), m.group(2), m.group(4))
                    i = m.end()
                    continue
                if nxt in "()*+":  # charset designation: one more byte
                    if i + 2 >= n:
                        self.pending = s[i:]
                        return
                    i += 3
                    continue
                if nxt == "]":  # OSC: up to BEL or ST
                    end = s.find("\x07", i)
                    st = s.find("\x1b\\", i)
                    if end < 0 and st < 0:
                        self.pending = s[i:]
                        return
                    ends = [e + 1 for e in (end,) if e >= 0] + [e + 2 for e in (st,) if e >= 0]
                    i = min(ends)
                    continue
                if nxt == "M":
                    if self.y == self.top:
                        self._scroll_down()
                    elif self.y > 0:
                        self.y -= 1
                elif nxt == "D":
                    self._lf()
                elif nxt == "E":
                    self.x = 0
                    self._lf()
                elif nxt == "7":
                    self.saved = (self.x, self.y)
                elif nxt == "8":
                    self.x, self.y = self.saved
                elif nxt == "c":
                    self.__init__(self.w, self.h)
                self.wrap = False
                i += 2
                continue
            if c == "\r":
                self.x = 0
                self.wrap = False
            elif c == "\n":
                self._lf()
                self.wrap = False
            elif c == "\b":
                self.x = max(self.x - 1, 0)
                self.wrap = False
            elif c == "\t":
                self.x = min((self.x // 8 + 1) * 8, self.w - 1)
            elif c >= " " and c != "\x7f":
                self._put(c)
            i += 1


class Tui:
    """tlstriage in a pty: every chunk it writes is timestamped and fed to the screen."""

    def __init__(self, argv, env_extra=None):
        env = dict(os.environ)
        env.pop("NO_COLOR", None)
        env.update({"TERM": "xterm-256color", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"})
        if env_extra:
            env.update(env_extra)
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", H, W, 0, 0))
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True,
                                     preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        self.t_exec = time.monotonic()  # Popen returns once the exec has succeeded
        os.close(slave)
        self.fd = master
        self.screen = Screen()
        self.chunks = []  # (monotonic time, bytes)
        self.nbytes = 0

    def pump(self, timeout):
        """Reads what arrives within timeout seconds; returns True if anything came."""
        r, _, _ = select.select([self.fd], [], [], max(timeout, 0))
        if not r:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:
            return False
        if not data:
            return False
        now = time.monotonic()
        self.chunks.append((now, len(data)))
        self.nbytes += len(data)
        self.screen.feed(data)
        return True

    def wait_for(self, pred, timeout):
        """Pumps until pred(screen) holds; returns the time it first held, or None."""
        end = time.monotonic() + timeout
        while True:
            if pred(self.screen):
                return self.chunks[-1][0] if self.chunks else time.monotonic()
            left = end - time.monotonic()
            if left <= 0:
                return None
            self.pump(min(left, 0.05))

    def run_for(self, secs):
        end = time.monotonic() + secs
        while time.monotonic() < end:
            self.pump(end - time.monotonic())

    def send(self, data):
        os.write(self.fd, data)
        return time.monotonic()

    def cpu(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def quit(self):
        if self.proc.poll() is None:
            try:
                self.send(b"q")
                self.proc.wait(timeout=3)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        while self.pump(0.05):
            pass
        os.close(self.fd)


def bursts(chunks, t_from, t_to, gap=0.020):
    """Output bursts (chunks closer than gap joined) starting in [t_from, t_to): (t, bytes)."""
    out = []
    for t, n in chunks:
        if out and t - out[-1][2] <= gap:
            out[-1][1] += n
            out[-1][2] = t
        else:
            out.append([t, n, t])
    return [(b[0], b[1]) for b in out if t_from <= b[0] < t_to]


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# --- outage: the last hour of a realistic outage appended to a generated log ---

def cmd_outage(path, minutes=40, per_s=150):
    """Appends one hour ending now: the everyday background (~30 lines/s: 404s, upstream
    time-outs while reading, buffering warnings, ~4 % scattered upstream TLS failures) and,
    for the last MINUTES, an outage: api.example.com's upstream pool (3 peers) failing its
    verify at ~PER_S requests/s (default 150), and a stream upstream timing out at ~5/s."""
    rnd = random.Random(13)
    end = int(time.time())
    start = end - 3600
    out_from = end - minutes * 60
    kinds = ["upstream SSL certificate verify error: (20:unable to get local issuer certificate)"]
    n = ev = 0
    with open(path, "a", buffering=1 << 20) as f:
        for sec in range(start, end + 1):
            ts = time.strftime("%Y/%m/%d %H:%M:%S", time.localtime(sec))
            bg = 25 + rnd.randrange(11)
            for _ in range(bg):
                c = f"{10 + rnd.randrange(200)}.{rnd.randrange(256)}.{rnd.randrange(256)}.{1 + rnd.randrange(254)}"
                r = rnd.randrange(100)
                n += 1
                cid = 5000000 + n
                if r < 45:
                    f.write(f'{ts} [error] 2101#2101: *{cid} open() "/usr/share/nginx/html/static/img{rnd.randrange(900)}.png" failed (2: No such file or directory), client: {c}, server: www.example.com, request: "GET /static/img{rnd.randrange(900)}.png HTTP/1.1", host: "www.example.com"\n')
                elif r < 70:
                    f.write(f'{ts} [error] 2102#2102: *{cid} upstream timed out (110: Connection timed out) while reading response header from upstream, client: {c}, server: shop.example.com, request: "GET /cart/{rnd.randrange(10**6)} HTTP/1.1", upstream: "http://10.0.3.{1 + rnd.randrange(9)}:8080/cart", host: "shop.example.com"\n')
                elif r < 96:
                    f.write(f'{ts} [warn] 2103#2103: *{cid} an upstream response is buffered to a temporary file /var/cache/nginx/proxy_temp/{rnd.randrange(10)}/{rnd.randrange(100):02d}/{rnd.randrange(10**9):010d} while reading upstream, client: {c}, server: shop.example.com, request: "GET /export HTTP/1.1", upstream: "http://10.0.3.{1 + rnd.randrange(9)}:8080/export", host: "shop.example.com"\n')
                else:
                    ev += 1
                    f.write(f'{ts} [error] 2101#2101: *{cid} SSL_do_handshake() failed (SSL: error:0A00010B:SSL routines::wrong version number) while SSL handshaking to upstream, client: {c}, server: www.example.com, request: "GET /legacy HTTP/1.1", upstream: "https://10.0.4.7:443/legacy", host: "www.example.com"\n')
            if sec < out_from:
                continue
            # the outage: a rotated CA on api's pool, every request fails its verify
            for _ in range(per_s - 10 + rnd.randrange(21)):
                n += 1
                ev += 1
                c = f"{10 + rnd.randrange(200)}.{rnd.randrange(256)}.{rnd.randrange(256)}.{1 + rnd.randrange(254)}"
                f.write(f'{ts} [error] 2104#2104: *{5000000 + n} {kinds[0]} while SSL handshaking to upstream, client: {c}, server: api.example.com, request: "GET /v2/orders/{rnd.randrange(10**7)} HTTP/1.1", upstream: "https://10.0.2.{20 + rnd.randrange(3)}:8443/v2/orders", host: "api.example.com"\n')
            for _ in range(3 + rnd.randrange(5)):
                n += 1
                ev += 1
                c = f"{10 + rnd.randrange(200)}.{rnd.randrange(256)}.{rnd.randrange(256)}.{1 + rnd.randrange(254)}"
                f.write(f'{ts} [error] 2104#2104: *{5000000 + n} upstream timed out (110: Connection timed out) while SSL handshaking to upstream, client: {c}, server: 0.0.0.0:9443, upstream: "10.0.5.9:5432", bytes from/to client:0/0, bytes from/to upstream:0/0\n')
    print(json.dumps({"lines": n, "events": ev, "from": start, "to": end,
                      "outage_minutes": minutes, "outage_per_s": per_s}))


# --- startup: first frame and the whole last hour ---

LINES_READ = re.compile(r"(\d+) incidents?, (\d+) events?, (\d+) lines read")


def status(screen):
    m = LINES_READ.search(screen.line(2))
    return tuple(int(g) for g in m.groups()) if m else None


def cmd_startup(tt, log):
    tui = Tui([tt, "--log", log, "watch"])
    t0 = tui.t0
    first = tui.wait_for(lambda s: "Incidents" in s.text(), 30)
    notice_gone = tui.wait_for(lambda s: "reading the last hour" not in s.text()
                               and status(s) is not None, 120)
    # the whole hour is read when the count on the screen stops moving (the file is not
    # written meanwhile) and the process has stopped using CPU; the time is when that final
    # count first appeared on the screen
    seen, seen_t, done = None, None, None
    cpu_t, cpu_v = time.monotonic(), tui.cpu()
    end = time.monotonic() + 120
    while time.monotonic() < end:
        tui.pump(0.05)
        st = status(tui.screen)
        if st != seen:
            seen, seen_t = st, (tui.chunks[-1][0] if tui.chunks else time.monotonic())
        if time.monotonic() - cpu_t >= 1.0:
            c = tui.cpu()
            idle = c - cpu_v < 0.02
            cpu_t, cpu_v = time.monotonic(), c
            if idle and time.monotonic() - seen_t > 2.0:
                done = seen_t
                break
    cpu = tui.cpu()
    rows = [tui.screen.line(y).rstrip() for y in range(H)]
    tui.quit()
    ms = lambda t: None if t is None else round((t - t0) * 1000, 1)
    print(json.dumps({"first_frame_ms": ms(first),
                      "first_frame_from_exec_ms": round((first - tui.t_exec) * 1000, 1)
                      if first is not None else None, "notice_gone_ms": ms(notice_gone),
                      "full_hour_ms": ms(done), "status": seen, "cpu_s": cpu,
                      "load": loadavg(), "screen": rows}))


# --- flood: keys, redraws and CPU under bench/follow's writer ---

def cmd_flood(tt, work, writer, rate, cpu_secs=10, presses=20):
    rate = int(rate)
    wsecs = 2 + cpu_secs + 20
    log = os.path.join(work, "flood.log")
    open(log, "w").close()
    tui = Tui([tt, "--log", log, "watch"])
    tui.wait_for(lambda s: "UPSTREAM" in s.text(), 10)
    tui.run_for(0.5)
    w = subprocess.Popen([writer, log, str(rate), str(wsecs)], stdout=subprocess.PIPE,
                         env=dict(os.environ, EVENTS_PCT="90"))
    tw0 = time.monotonic()
    tui.run_for(2)
    load0 = loadavg()
    # phase 1: CPU and redraws over cpu_secs, no keys
    c0, a = tui.cpu(), time.monotonic()
    tui.run_for(cpu_secs)
    c1, b = tui.cpu(), time.monotonic()
    frames = bursts(tui.chunks, a, b)
    fbytes = [n for _, n in frames]
    # phase 2: '?' until "Keys" is on the screen, then 'q' until the home screen is back
    lat, back = [], []
    for _ in range(presses):
        t = tui.send(b"?")
        got = tui.wait_for(lambda s: "Keys" in s.text(), 5)
        lat.append(None if got is None else (got - t) * 1000)
        t = tui.send(b"q")
        got = tui.wait_for(lambda s: "UPSTREAM" in s.text() and "Keys" not in s.text(), 5)
        back.append(None if got is None else (got - t) * 1000)
        tui.run_for(0.2)
    t_keys_end = time.monotonic() - tw0
    rows = [tui.screen.line(y).rstrip() for y in range(H)]
    w.wait()
    wout = w.stdout.read().decode().strip()
    tui.quit()
    # the same flood with `scan --follow --format jsonl FILE > /dev/null` alone, and with
    # the text format (which, like the screen, groups every event into incidents)
    scan_cpu = {fmt: follow_cpu(tt, work, writer, rate, cpu_secs, fmt) for fmt in ("jsonl", "text")}
    os.unlink(log)
    ok = [x for x in lat if x is not None]
    okb = [x for x in back if x is not None]
    tui_cpu = c1 - c0
    print(json.dumps({
        "rate": rate, "writer": wout, "load_start": load0, "load_end": loadavg(),
        "redraws_per_s": round(len(frames) / (b - a), 2), "frame_bytes_median":
        statistics.median(fbytes) if fbytes else 0, "frame_bytes_max": max(fbytes, default=0),
        "key_ms_median": round(statistics.median(ok), 1) if ok else None,
        "key_ms_max": round(max(ok), 1) if ok else None, "key_missed": len(lat) - len(ok),
        "back_ms_median": round(statistics.median(okb), 1) if okb else None,
        "back_ms_max": round(max(okb), 1) if okb else None,
        "keys_done_at_s": round(t_keys_end, 1),
        "tui_cpu_s": round(tui_cpu, 2), "scan_follow_jsonl_cpu_s": round(scan_cpu["jsonl"], 2),
        "cpu_ratio": round(tui_cpu / scan_cpu["jsonl"], 2) if scan_cpu["jsonl"] > 0 else None,
        "scan_follow_text_cpu_s": round(scan_cpu["text"], 2),
        "cpu_ratio_text": round(tui_cpu / scan_cpu["text"], 2) if scan_cpu["text"] > 0 else None,
        "cpu_secs": cpu_secs, "screen": rows}))


def follow_cpu(tt, work, writer, rate, cpu_secs, fmt):
    """CPU seconds of `scan --follow --format FMT FILE > /dev/null` over cpu_secs of the flood
    (from its 2nd second on)."""
    log = os.path.join(work, "flood-scan.log")
    open(log, "w").close()
    sf = subprocess.Popen([tt, "scan", "--follow", "--format", fmt, log],
                          stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    w = subprocess.Popen([writer, log, str(rate), str(2 + cpu_secs + 1)],
                         stdout=subprocess.DEVNULL, env=dict(os.environ, EVENTS_PCT="90"))
    time.sleep(2)
    s0 = proc_cpu(sf.pid)
    time.sleep(cpu_secs)
    s1 = proc_cpu(sf.pid)
    w.wait()
    sf.send_signal(signal.SIGINT)
    sf.wait()
    os.unlink(log)
    return s1 - s0


# --- bytes: idle, and one incident's count ticking once a second ---

LINE = ('{ts} [error] 2817#2817: *{n} upstream SSL certificate verify error: (18:self-signed '
        'certificate) while SSL handshaking to upstream, client: 10.0.0.1, server: api.example, '
        'request: "GET /x HTTP/1.1", upstream: "https://10.0.2.10:8443/x", host: "api.example"\n')


def append_line(path, n):
    with open(path, "a") as f:
        f.write(LINE.format(ts=time.strftime("%Y/%m/%d %H:%M:%S"), n=n))


def cmd_bytes(tt, work, secs=10):
    secs = int(secs)
    log = os.path.join(work, "bytes.log")
    open(log, "w").close()
    append_line(log, 1)
    tui = Tui([tt, "--log", log, "watch"])
    tui.wait_for(lambda s: "10.0.2.10:8443" in s.text(), 10)
    tui.run_for(1.5)
    load0 = loadavg()
    # idle: nothing appended
    a = time.monotonic()
    n0 = tui.nbytes
    tui.run_for(secs)
    b = time.monotonic()
    idle = bursts(tui.chunks, a, b)
    idle_bytes = tui.nbytes - n0
    # ticking: one matching line each second, just after a clock second turns
    time.sleep(1 - time.time() % 1 + 0.4)
    tui.run_for(0)
    a = time.monotonic()
    n0 = tui.nbytes
    for i in range(secs):
        append_line(log, 2 + i)
        tui.run_for(1 - time.time() % 1 + 0.4)
    b = time.monotonic()
    tick = bursts(tui.chunks, a, b)
    tick_bytes = tui.nbytes - n0
    rows = [tui.screen.line(y).rstrip() for y in range(H)]
    tui.quit()
    os.unlink(log)
    print(json.dumps({
        "secs": secs, "load": load0,
        "idle_bytes": idle_bytes, "idle_updates": len(idle),
        "idle_bytes_per_update": round(idle_bytes / max(len(idle), 1), 1),
        "tick_bytes": tick_bytes, "tick_updates": len(tick),
        "tick_bytes_per_second": round(tick_bytes / secs, 1),
        "tick_update_sizes": [n for _, n in tick], "idle_update_sizes": [n for _, n in idle],
        "screen": rows}))


def main(argv):
    cmds = {"outage": cmd_outage, "startup": cmd_startup, "flood": cmd_flood,
            "bytes": cmd_bytes}
    if len(argv) < 2 or argv[1] not in cmds:
        sys.stderr.write(__doc__)
        return 2
    f = cmds[argv[1]]
    args = [int(a) if a.isdigit() else a for a in argv[2:]]
    f(*args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
