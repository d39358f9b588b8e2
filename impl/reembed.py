"""Re-embed the catalog: every live product's vector computed again and stored, with a progress bar.

python -m impl.reembed            every live product
python -m impl.reembed --stale    only products whose vector is missing, out of date or another model's

On DATABASE_URL (or the embedded SQLite file), like the API. Running API
processes keep the vectors they hold (the same model's); one started later, or
one that reloads its index, reads the new ones. The API also embeds missing or
out-of-date vectors itself when it loads its index, so this command is for a
new model, or to do that work ahead of a start.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from tqdm import tqdm

from .db import embeddings as embedding_rows
from .db.database import Db
from .embeddings import MODEL_NAME, load_embedder, product_text
from .services.semantic import columns_of, stored_vector
from .settings import load_settings

PAGE = 2_000


async def reembed(*, stale_only: bool) -> tuple[int, float]:
    settings = load_settings()
    db = Db(settings.resolved_database_url(), timeout=settings.database_timeout_seconds)
    embedder = await asyncio.to_thread(load_embedder)
    await db.connect()
    started = time.perf_counter()
    done = 0
    try:
        total = await embedding_rows.count_live(db.database)
        with tqdm(total=total, unit="product", desc="embedding", smoothing=0.1) as bar:
            after = None
            while True:
                rows = await embedding_rows.live_rows(db.database, after=after, limit=PAGE)
                if not rows:
                    break
                after = rows[-1].id
                todo = [row for row in rows if not stale_only or stored_vector(row) is None]
                vectors = await asyncio.to_thread(
                    embedder.embed, [product_text(r.name, r.category, r.description) for r in todo]
                )
                async with db.write() as session:
                    for row, vector in zip(todo, vectors, strict=True):
                        # A product updated meanwhile keeps the vector its own write stores.
                        text = product_text(row.name, row.category, row.description)
                        await embedding_rows.store(
                            session, product_id=row.id, columns=columns_of(vector, text), text_updated_at=row.updated_at
                        )
                done += len(todo)
                bar.update(len(rows))
    finally:
        await db.disconnect()
    return done, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(prog="scripts/embed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stale", action="store_true", help="only missing, out-of-date or other models' vectors")
    args = parser.parse_args()
    done, seconds = asyncio.run(reembed(stale_only=args.stale))
    print(f"embedded {done} products with {MODEL_NAME} in {seconds:.1f} s")


if __name__ == "__main__":
    main()
