"""Smart search, similar products, recommendations and description drafts (the `ai` operations).

Smart search and similar products are product reads: cached as the bytes sent,
under the products generation, so every product write invalidates them, and
under this process's index version (impl/services/semantic.py), so an answer
built before the process applied another process's write is not served after.
Recommendations are cached per user (for `RECOMMENDATIONS_TTL_SECONDS`) under
the user's views version (impl/services/views.py), the products generation and
the popular list's period (impl/services/popular.py, whose docstring states what
that list lets anyone learn about other users' views).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from decimal import Decimal
from uuid import UUID

import numpy as np
from pydantic_core import to_json

from contract_runtime.principal import Principal
from contract_runtime.results import RawJson
from generated.interfaces.ai import (
    GenerateProductDescription200Response,
    GetRecommendations200Response,
    GetRecommendationsQuery,
    GetSimilarProducts200Response,
    GetSimilarProducts304Response,
    GetSimilarProductsQuery,
    SmartSearch200Response,
    SmartSearch304Response,
    SmartSearchQuery,
)
from generated.models import DescriptionDraft, ProductMatches, Recommendations, RecommendationSource, Score

from ..db import embeddings as embedding_rows
from ..db import products as product_rows
from ..db import views as view_rows
from ..db.database import Db
from ..embeddings.model import Vectors
from ..errors import NotConfigured, NotFound, UpstreamFailed, UpstreamTimeout
from ..llm import ChatClient, ChatMessage, LlmFailed, LlmTimedOut
from .popular import Popularity
from .product_cache import ProductCache
from .products import PRODUCT_NOT_FOUND, answer, to_product
from .semantic import SemanticIndex
from .views import ViewHistory

MAX_MATCHES = 50  # the spec's MatchLimit maximum
RECENCY_DECAY = 0.85  # the weight of each older view, relative to the next newer one
DESCRIPTION_MAX = 2000  # ProductUpdate.description's maxLength
LLM_MAX_TOKENS = 300
NOT_CONFIGURED = "No language model is configured (LLM_BASE_URL and LLM_MODEL)."
SYSTEM_PROMPT = (
    "You write product descriptions for an online catalog. Answer with the description only: "
    "plain text, two to four sentences, at most 80 words, no markdown, no quotation marks, "
    "no claims that the facts given do not support."
)
# Control characters ProductUpdate.description refuses (tabs and newlines are kept).
# What the draft may not hold: the control characters the spec's pattern refuses, and lone surrogates (a
# reply cut inside an escaped emoji pair parses to one; no valid JSON text can carry it on).
_REFUSED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")


def _key(kind: str, **values: object) -> str:
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)
    return f"products:{kind}:{hashlib.sha256(canonical.encode()).hexdigest()}"


class AiService:
    """Implements `generated.interfaces.ai.AiApi`."""

    def __init__(
        self,
        db: Db,
        cache: ProductCache,
        semantic: SemanticIndex,
        views: ViewHistory,
        *,
        popularity: Popularity,
        recommendations_cache: ProductCache,
        llm: ChatClient | None,
    ) -> None:
        self._db = db
        self._cache = cache
        self._semantic = semantic
        self._views = views
        self._popularity = popularity
        self._recommendations = recommendations_cache
        self._llm = llm

    # --- smart search and similar products -----------------------------------------------------------------------

    async def smart_search(
        self, *, query: SmartSearchQuery, if_none_match: str | None
    ) -> SmartSearch200Response | SmartSearch304Response:
        async def build() -> bytes:
            return await self._matches(await self._semantic.embed_query(query.q), query.limit)

        key = _key("smart", q=query.q, limit=query.limit, index=await self._semantic.version())
        cached = await self._cache.fetch(key, build)
        return answer(
            cached,
            if_none_match,
            lambda body, etag, x_cache: SmartSearch200Response(body=RawJson(body), etag=etag, x_cache=x_cache),
            lambda etag, x_cache: SmartSearch304Response(etag=etag, x_cache=x_cache),
        )

    async def get_similar_products(
        self, *, product_id: UUID, query: GetSimilarProductsQuery, if_none_match: str | None
    ) -> GetSimilarProducts200Response | GetSimilarProducts304Response:
        async def build() -> bytes:
            if await product_rows.get_live(self._db.database, product_id=product_id) is None:
                raise NotFound(PRODUCT_NOT_FOUND)
            vector = await self._semantic.vector_for(product_id)
            if vector is None:  # deleted a moment ago
                raise NotFound(PRODUCT_NOT_FOUND)
            return await self._matches(vector, query.limit, exclude=(product_id,))

        key = _key("similar", id=product_id, limit=query.limit, index=await self._semantic.version())
        cached = await self._cache.fetch(key, build)
        return answer(
            cached,
            if_none_match,
            lambda body, etag, x_cache: GetSimilarProducts200Response(body=RawJson(body), etag=etag, x_cache=x_cache),
            lambda etag, x_cache: GetSimilarProducts304Response(etag=etag, x_cache=x_cache),
        )

    async def _matches(self, vector: Vectors, limit: int, *, exclude: Sequence[UUID] = ()) -> bytes:
        # A few more than asked: a product deleted since the index saw it is dropped, not answered.
        nearest = await self._semantic.nearest(vector, limit + 5, exclude=exclude)
        records = {r.id: r for r in await embedding_rows.live_products(self._db.database, ids=[k for k, _ in nearest])}
        found = [(records[key], score) for key, score in nearest if key in records][:limit]
        body = ProductMatches.model_construct(
            items=[to_product(record) for record, _ in found],
            scores=[Score.model_construct(round(score, 6)) for _, score in found],
        )
        return to_json(body)

    # --- recommendations ------------------------------------------------------------------------------------------

    async def get_recommendations(
        self, *, principal: Principal, query: GetRecommendationsQuery
    ) -> GetRecommendations200Response:
        user_id = UUID(principal.subject)
        version = await self._views.version(user_id)
        cached = await self._recommendations.fetch(
            _key(
                "recommendations",
                user=user_id,
                views=version,
                limit=query.limit,
                index=await self._semantic.version(),
                popular=self._popularity.period_start(),
            ),
            lambda: self._recommend(user_id, query.limit),
        )
        return GetRecommendations200Response(
            body=RawJson(cached.body), cache_control="no-store", x_cache=cached.x_cache
        )

    async def _recommend(self, user_id: UUID, limit: int) -> bytes:
        db = self._db.database
        recent = await view_rows.recent(db, user_id=user_id, limit=self._views.keep)
        seen = await view_rows.viewed(db, user_id=user_id)
        ids: list[UUID] = []
        source = RecommendationSource.history
        profile = await self._profile(recent)
        if profile is not None:
            ids = [key for key, _ in await self._semantic.nearest(profile, limit + 5, exclude=seen)]
        if not ids:
            source = RecommendationSource.popular
            viewed = set(seen)
            # Twice the limit of each: a listed product deleted since the list was made is dropped below.
            ids = [key for key in await self._popularity.listed() if key not in viewed][: limit * 2]
            listed = set(ids)
            newest = await view_rows.newest(db, limit=limit * 2, exclude_user=user_id)
            ids += [key for key in newest if key not in listed]
        records = {r.id: r for r in await embedding_rows.live_products(db, ids=ids)}
        items = [to_product(records[key]) for key in ids if key in records][:limit]
        return to_json(Recommendations.model_construct(items=items, source=source))

    async def _profile(self, recent: Sequence[UUID]) -> Vectors | None:
        """The user's taste: the viewed products' vectors, newer views weighing more; None without any."""
        total: Vectors | None = None
        weight = 1.0
        for product_id in recent:
            vector = await self._semantic.vector_of(product_id)
            if vector is not None:
                total = vector * weight if total is None else total + vector * weight
            weight *= RECENCY_DECAY
        if total is None:
            return None
        norm = float(np.linalg.norm(total))
        return None if norm == 0 else total / norm

    # --- description drafts ---------------------------------------------------------------------------------------

    async def generate_product_description(
        self, *, principal: Principal, product_id: UUID
    ) -> GenerateProductDescription200Response:
        record = await product_rows.get_live(self._db.database, product_id=product_id)
        if record is None:
            raise NotFound(PRODUCT_NOT_FOUND)
        if self._llm is None:
            raise NotConfigured(NOT_CONFIGURED)
        facts = [f"Name: {record.name}", f"Price: {Decimal(record.price_cents) / 100:.2f}"]
        if record.category:
            facts.append(f"Category: {record.category}")
        if record.description:
            facts.append(f"Current description (improve on it): {record.description}")
        messages: list[ChatMessage] = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": "Write a description for this product.\n" + "\n".join(facts)},
        ]
        try:
            completion = await self._llm.complete(messages, max_tokens=LLM_MAX_TOKENS)
        except LlmTimedOut as exc:
            raise UpstreamTimeout(str(exc)) from None
        except LlmFailed as exc:
            raise UpstreamFailed(str(exc)) from None
        draft = _REFUSED.sub("", completion.text).strip()[:DESCRIPTION_MAX].strip()
        if not draft:
            raise UpstreamFailed("The language model provider answered an empty description.")
        model = _REFUSED.sub("", completion.model).strip() or self._llm.model
        body = DescriptionDraft(product_id=product_id, description=draft, model=model)
        return GenerateProductDescription200Response(body=body, cache_control="no-store")
