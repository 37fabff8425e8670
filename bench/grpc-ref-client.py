#!/usr/bin/env python3
"""An independent gRPC client for bench/grpc-client.ts part 2: gRPC C-core (Debian's python3-grpcio) at a constant rate.

tfsvc bench's gRPC client (src/core/load/grpc-h2.ts) is checked against this one: same server, same rate, latency
from the moment a call is sent to its answer. grpc-js, the other reference, spends ~0.26 ms of its own CPU per call
(bench/grpc-client.ts part 1) and that time sits inside every latency it reports; C-core does HTTP/2, framing and
polling in C. This client's own floor (the same rate against bench/trivial-h2-server.ts) is measured and printed
beside bench's by bench/grpc-client.ts, so a reader sees how much of a disagreement is this client's own.

What it does: raw unary calls to --method with the request bytes read from --body (a file, or - for stdin), with no
generated stubs (unary_unary with no serializers: bytes in, bytes out, nothing decoded). Calls start open-loop at
--rate per second (call i at t0 + i/rate, whatever happened to the others) for --warmup + --seconds seconds; calls of
the first --warmup seconds are not recorded. Three pacers, --mode:
  pool (default): --threads threads; thread k makes calls k, k+threads, ... as blocking calls, sleeping until each
                  one's intended start. A call starts late only if its thread's previous call (threads/rate seconds
                  earlier: 128 ms at 64 threads and 500/s) is still running; pacer_lag shows it. The clock starts
                  once every thread is up.
  thread:         the main thread sleeps until each start and fires `.future()`; C-core's channel thread runs the
                  done-callback, which takes the time.
  aio:            grpc.aio, one asyncio loop sleeping until each start and awaiting each call in its own task.
The pool is the default because it had the least own overhead: against the trivial server at 500/s on the project's
2-core VM (shared, noisy; three interleaved runs each), client CPU 300-330 us per call against 460-520 (thread) and
455-490 (aio), and the lowest or equal P50 from the send (0.33-0.44 ms; thread 0.37-0.59, aio 0.45-0.86). A blocking call waits on its own
completion queue in C with the GIL released; the other two hand each answer through a Python callback or the asyncio
loop.

All record latency from just before the call is handed to gRPC ("from the send") and from its intended start (which
adds the pacer's own lateness), and print one JSON object on stdout:
  {"count", "errors", "p50", "p90", "p99", "max" (ms, from the send), "from_intended": {...}, "pacer_lag": {...},
   "send_rate", "cpu_us_per_call" (this process's CPU, all threads, first measured call to last answer, per call),
   "error_sample", "mode", "grpc_version", ...}
Percentiles are nearest-rank over every recorded call (no histogram buckets). Errors count measured calls only.

Exits 3 with {"error": ...} when grpc is not importable (Debian: apt-get install python3-grpcio; that package is for
/usr/bin/python3, not a pyenv or venv interpreter), 2 when the target does not connect within --timeout.

Usage: /usr/bin/python3 bench/grpc-ref-client.py --target 127.0.0.1:8500 --body req.bin [--rate 500] [--seconds 3]
         [--warmup 0.5] [--mode pool|thread|aio] [--threads 64] [--option grpc.http2.bdp_probe=0] [--timeout 10]
         [--method /tensorflow.serving.PredictionService/Predict]
"""
import argparse
import json
import math
import sys
import threading
import time

PREDICT = "/tensorflow.serving.PredictionService/Predict"


def percentiles(values_ns):
    """Nearest-rank P50/P90/P99/max in milliseconds of a list of nanosecond latencies."""
    if not values_ns:
        return {"p50": None, "p90": None, "p99": None, "max": None}
    s = sorted(values_ns)

    def at(p):
        return s[max(0, math.ceil(p / 100 * len(s)) - 1)] / 1e6

    return {"p50": at(50), "p90": at(90), "p99": at(99), "max": s[-1] / 1e6}


class Run:
    """The schedule (call i due at t0 + i/rate; the first `warm` calls not recorded) and what the calls recorded."""

    def __init__(self, args):
        self.rate = args.rate
        self.warm = round(args.rate * args.warmup)
        self.total = self.warm + round(args.rate * args.seconds)
        self.lock = threading.Lock()
        self.from_send = []
        self.from_intended = []
        self.lag = []  # how late each measured call was handed to gRPC, against its intended start
        self.errors = 0
        self.error_sample = None
        self.cpu0 = self.cpu1 = self.t_measured = self.t_sent = None

    def due(self, t0, i):
        return t0 + (i * 1_000_000_000) // self.rate

    def start(self, i, intended):
        """Call i is being handed to gRPC now: its send time (ns), after noting the window's marks."""
        send = time.perf_counter_ns()
        if i == self.warm:
            self.cpu0, self.t_measured = time.process_time(), send
        if i == self.total - 1:
            self.t_sent = send
        if i >= self.warm:
            self.lag.append(send - intended)
        return send

    def ended(self):
        """Every call has its answer (before the channel closes)."""
        self.cpu1 = time.process_time()

    def done(self, i, intended, send, error):
        now = time.perf_counter_ns()
        if i < self.warm:
            return
        with self.lock:
            if error is not None:
                self.errors += 1
                if self.error_sample is None:
                    self.error_sample = error
            else:
                self.from_send.append(now - send)
                self.from_intended.append(now - intended)


def sleep_until(t_ns):
    delay = t_ns - time.perf_counter_ns()
    if delay > 0:
        time.sleep(delay / 1e9)


def open_call(grpc, args):
    """A connected channel and its raw unary method (bytes in, bytes out)."""
    channel = grpc.insecure_channel(args.target, options=args.option)
    grpc.channel_ready_future(channel).result(timeout=args.timeout)
    return channel, channel.unary_unary(args.method, request_serializer=None, response_deserializer=None)


def run_pool(grpc, args, body, run):
    channel, call = open_call(grpc, args)
    n = args.threads
    clock = {}
    # The clock starts once every thread is up: threads starting while the first calls return would hold the GIL
    # those calls need to finish (seen as first calls of 100 ms to 2 s on the shared VM).
    ready = threading.Barrier(n, action=lambda: clock.update(t0=time.perf_counter_ns() + 10_000_000))

    def worker(k):
        ready.wait()
        for i in range(k, run.total, n):
            intended = run.due(clock["t0"], i)
            sleep_until(intended)
            send = run.start(i, intended)
            error = None
            try:
                call(body, timeout=args.timeout)
            except grpc.RpcError as e:
                error = f"{e.code().name}: {e.details()}"
            run.done(i, intended, send, error)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run.ended()
    channel.close()


def run_thread(grpc, args, body, run):
    channel, call = open_call(grpc, args)
    finished = threading.Semaphore(0)
    t0 = time.perf_counter_ns()
    for i in range(run.total):
        intended = run.due(t0, i)
        sleep_until(intended)
        send = run.start(i, intended)
        fut = call.future(body, timeout=args.timeout)

        # C-core's channel thread runs this once the call ends (or this thread, if it already has).
        def done(f, i=i, intended=intended, send=send):
            code = f.code()
            run.done(i, intended, send, None if code == grpc.StatusCode.OK else f"{code.name}: {f.details()}")
            finished.release()

        fut.add_done_callback(done)
    for _ in range(run.total):
        finished.acquire()
    run.ended()
    channel.close()


def run_aio(grpc, args, body, run):
    import asyncio
    from grpc import aio

    async def main():
        async with aio.insecure_channel(args.target, options=args.option) as channel:
            await asyncio.wait_for(channel.channel_ready(), args.timeout)
            call = channel.unary_unary(args.method, request_serializer=None, response_deserializer=None)

            async def one(i, intended):
                send = run.start(i, intended)
                error = None
                try:
                    await call(body, timeout=args.timeout)
                except aio.AioRpcError as e:
                    error = f"{e.code().name}: {e.details()}"
                run.done(i, intended, send, error)

            tasks = []
            t0 = time.perf_counter_ns()
            for i in range(run.total):
                intended = run.due(t0, i)
                delay = intended - time.perf_counter_ns()
                if delay > 0:
                    await asyncio.sleep(delay / 1e9)
                tasks.append(asyncio.ensure_future(one(i, intended)))
            await asyncio.gather(*tasks)
            run.ended()

    asyncio.run(main())


def channel_option(text):
    name, _, value = text.partition("=")
    return (name, int(value))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--target", required=True, help="host:port of a plaintext gRPC server")
    p.add_argument("--body", required=True, help="file holding the serialized request message, or - for stdin")
    p.add_argument("--method", default=PREDICT)
    p.add_argument("--rate", type=int, default=500, help="calls started per second")
    p.add_argument("--seconds", type=float, default=3.0, help="measured seconds")
    p.add_argument("--warmup", type=float, default=0.5, help="seconds of calls before, not recorded")
    p.add_argument("--mode", choices=["pool", "thread", "aio"], default="pool")
    p.add_argument("--threads", type=int, default=64, help="pool mode: threads, each making blocking calls in turn")
    p.add_argument("--option", action="append", default=[], type=channel_option, metavar="NAME=INT",
                   help="a C-core channel argument, e.g. grpc.http2.bdp_probe=0 (repeatable)")
    p.add_argument("--timeout", type=float, default=10.0, help="deadline of each call, seconds")
    args = p.parse_args()
    if args.rate <= 0 or args.threads <= 0 or round(args.rate * args.seconds) < 1 or args.warmup < 0:
        p.error("--rate and --threads must be positive, --seconds long enough for one call, --warmup not negative")
    try:
        import grpc
    except ImportError as e:
        print(json.dumps({"error": f"python grpc is not importable ({e}); on Debian: apt-get install python3-grpcio, run with /usr/bin/python3"}))
        sys.exit(3)
    body = sys.stdin.buffer.read() if args.body == "-" else open(args.body, "rb").read()
    run = Run(args)
    try:
        {"aio": run_aio, "pool": run_pool, "thread": run_thread}[args.mode](grpc, args, body, run)
    except (grpc.FutureTimeoutError, TimeoutError):
        print(json.dumps({"error": f"no connection to {args.target} within {args.timeout:g}s"}))
        sys.exit(2)
    cpu = run.cpu1 - run.cpu0
    count = run.total - run.warm
    out = {
        "client": "python-grpcio",
        "grpc_version": grpc.__version__,
        "python": sys.version.split()[0],
        "mode": args.mode,
        "rate": args.rate,
        "count": len(run.from_send),
        "errors": run.errors,
        **percentiles(run.from_send),
        "from_intended": percentiles(run.from_intended),
        "pacer_lag": percentiles(run.lag),
        "send_rate": (count - 1) / ((run.t_sent - run.t_measured) / 1e9) if count > 1 and run.t_sent > run.t_measured else None,
        "cpu_us_per_call": cpu / max(1, count) * 1e6,
        "error_sample": run.error_sample,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
