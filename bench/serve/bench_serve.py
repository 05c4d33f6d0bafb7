#!/usr/bin/python3
"""Images per minute: `dermlens serve` (/v1/diagnose, strategy direct) against llama-server built
from the same pinned llama.cpp (/v1/chat/completions with the same lettered-options prompt), on the
same model pair and images, at 1, 2 and 4 concurrent clients, measured side by side in one run:
the two servers run at the same time and take turns (alternated rounds), and the figures are
medians over rounds, so that a noisy machine slows both alike. Three workloads: every request a
different image ("fresh"); the same image asked again ("repeat", after one warm-up request); and
each client asking again about an image of its own ("own": the last images of the folder, one per
client, each asked once before it is timed), where a server keeps the clients' images only if it
gives each request the slot or session that holds its image.

Usage (docs/server.md, "Benchmark"):
  bench_serve.py --dermlens build/bin/dermlens --llama-server PATH/llama-server \
      -m model.gguf --mmproj mmproj.gguf --images ../shared/data/images/isic9class/melanoma [--rounds 3]
Without --llama-server only dermlens is measured. Standard library only (Debian's python3).
"""
import argparse
import base64
import concurrent.futures
import json
import pathlib
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request

LABELS = ["melanoma", "melanocytic nevus", "basal cell carcinoma", "actinic keratosis", "seborrheic keratosis"]
PREAMBLE = pathlib.Path(__file__).resolve().parents[2] / "data" / "prompts" / "preamble.txt"
QUESTION = pathlib.Path(__file__).resolve().parents[2] / "data" / "prompts" / "question.txt"


def lettered_prompt():
    """dermlens's direct question (data/prompts/question.txt, dermlens style: "(A) label" per line)."""
    options = "\n".join(f"({chr(ord('A') + i)}) {label}" for i, label in enumerate(LABELS))
    question = QUESTION.read_text().format(context="", guide="", options=options).strip()
    return PREAMBLE.read_text().strip(), question


def post(url, body, content_type="application/json", timeout=3600):
    request = urllib.request.Request(url, data=body, headers={"Content-Type": content_type})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.read()


def wait_healthy(url, process, limit_s=1800):
    deadline = time.time() + limit_s
    while time.time() < deadline:
        if process.poll() is not None:
            sys.exit(f"{url}: the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/health", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.5)
    sys.exit(f"{url}: not healthy after {limit_s} s")


class DermlensClient:
    name = "dermlens serve"

    def __init__(self, url):
        self.url = url

    def ask(self, image_bytes):
        body = json.dumps({"image": base64.b64encode(image_bytes).decode(), "labels": LABELS, "strategy": "direct"})
        status, _ = post(self.url + "/v1/diagnose", body.encode())
        return status == 200


class LlamaServerClient:
    name = "llama-server"

    def __init__(self, url):
        self.url = url
        self.system, self.question = lettered_prompt()

    def ask(self, image_bytes):
        uri = "data:image/jpeg;base64," + base64.b64encode(image_bytes).decode()
        body = json.dumps({"messages": [{"role": "system", "content": self.system},
                                        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": uri}},
                                                                     {"type": "text", "text": self.question}]}],
                           "max_tokens": 1, "temperature": 0, "cache_prompt": True})
        status, _ = post(self.url + "/v1/chat/completions", body.encode())
        return status == 200


def images_per_minute(client, images, clients):
    """All of `images` through `clients` concurrent clients; images per minute, or None on a failure."""
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=clients) as pool:
        answers = list(pool.map(client.ask, images))
    elapsed = time.perf_counter() - start
    return None if not all(answers) else 60 * len(images) / elapsed


def start(argv, port, log):
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    return process, url


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dermlens", required=True)
    parser.add_argument("--llama-server")
    parser.add_argument("--llama-server-args", default="",
                        help="further llama-server options, one string (e.g. \"-fa off\": its attention path)")
    parser.add_argument("-m", "--model", required=True)
    parser.add_argument("--mmproj", required=True)
    parser.add_argument("--images", required=True, help="folder of JPEG images (searched recursively)")
    parser.add_argument("--per-round", type=int, default=8,
                        help="images per round and concurrency; 0: as many as clients (one request each, "
                             "for models where a request takes minutes)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", default="1,2,4")
    parser.add_argument("--workloads", default="fresh,repeat",
                        help="comma-separated: fresh (every request another image), repeat (the same image "
                             "again), own (each client its own image again)")
    parser.add_argument("--parallel", type=int,
                        help="dermlens sessions and llama-server slots (default: the highest concurrency)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--ctx", type=int, default=4096)
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--log", default="bench_serve.log")
    args = parser.parse_args()
    levels = [int(level) for level in args.concurrency.split(",")]
    parallel = str(args.parallel or max(levels))
    workloads = args.workloads.split(",")
    if not workloads or set(workloads) - {"fresh", "repeat", "own"}:
        sys.exit(f"--workloads {args.workloads}: name fresh, repeat or own")
    paths = sorted(pathlib.Path(args.images).rglob("*.jpg"))
    per_round = {level: args.per_round or level for level in levels}
    needed = sum(per_round.values()) * args.rounds
    owners = max(levels) if "own" in workloads else 0  # the clients' own images, kept apart from the fresh ones
    if len(paths) < max(per_round.values()) + owners:
        sys.exit(f"{args.images}: fewer than {max(per_round.values()) + owners} JPEG images")
    pictures = [path.read_bytes() for path in paths]
    own = pictures[len(pictures) - owners:]
    pictures = pictures[:len(pictures) - owners]

    log = open(args.log, "w")
    servers = []
    dermlens, d_url = start([args.dermlens, "serve", "-m", args.model, "--mmproj", args.mmproj, "--port", str(args.port),
                             "--parallel", parallel, "--queue", "64", "--threads", str(args.threads),
                             "--ctx", str(args.ctx)], args.port, log)
    servers.append(dermlens)
    clients = [DermlensClient(d_url)]
    if args.llama_server:
        llama, l_url = start([args.llama_server, "-m", args.model, "--mmproj", args.mmproj, "--port", str(args.port + 1),
                              "-np", parallel, "-t", str(args.threads), "-c", str(args.ctx * int(parallel)),
                              "--no-webui"] + args.llama_server_args.split(), args.port + 1, log)
        servers.append(llama)
        clients.append(LlamaServerClient(l_url))
    try:
        for client, server in zip(clients, servers):
            wait_healthy(client.url, server)
        results = {(client.name, workload, level): [] for client in clients for workload in workloads
                   for level in levels}
        for client in clients:  # the repeat workload's image, encoded once before it is timed
            client.ask(pictures[0])
            for image in own:
                client.ask(image)
        taken = 1
        for round_index in range(args.rounds):
            for level in levels:
                fresh = [pictures[(taken + i) % len(pictures)] for i in range(per_round[level])]
                taken += per_round[level]
                order = clients if round_index % 2 == 0 else list(reversed(clients))  # alternated
                for client in order:
                    if "fresh" in workloads:
                        results[(client.name, "fresh", level)].append(images_per_minute(client, fresh, level))
                    if "repeat" in workloads:
                        results[(client.name, "repeat", level)].append(
                            images_per_minute(client, [pictures[0]] * per_round[level], level))
                    if "own" in workloads:
                        results[(client.name, "own", level)].append(
                            images_per_minute(client, [own[i % level] for i in range(per_round[level])], level))
        if needed > len(pictures):
            print(f"note: {len(pictures)} images for {needed} fresh requests: later rounds reuse images, "
                  "which dermlens's embedding cache then serves", file=sys.stderr)
        print(f"{'workload':8} {'clients':>7} " + " ".join(f"{client.name:>18}" for client in clients)
              + ("    ratio" if len(clients) == 2 else ""))
        for workload in workloads:
            for level in levels:
                medians = []
                for client in clients:
                    runs = results[(client.name, workload, level)]
                    medians.append(None if None in runs else statistics.median(runs))
                cells = " ".join(f"{m:>12.2f} img/min" if m is not None else f"{'failed':>18}" for m in medians)
                ratio = ""
                if len(medians) == 2 and None not in medians:
                    ratio = f"  {medians[0] / medians[1]:6.2f}x"
                print(f"{workload:8} {level:>7} {cells}{ratio}")
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()
