# Code generated from openapi.yaml by scripts/generate. DO NOT EDIT.

"""The operations of catalog-api 1.0.0 as data for `contract_runtime`: paths,
methods, parameters, bodies, security and declared statuses, plus the spec's
own schemas for validating requests.
"""

from __future__ import annotations

import json
from uuid import UUID

from contract_runtime.operations import (
    Contract,
    Operation,
    Parameter,
    RequestBody,
    SecurityRequirement,
    SecurityScheme,
)

from . import models
from .interfaces import ai, auth, health, metrics, products, users

_VALIDATION_ROOT = json.loads(
    r"""{"$schema":"https://json-schema.org/draft/2020-12/schema","components":{"examples":{"Product":{"value":{"category":null,"created_at":"2026-11-26T09:30:00Z","description":null,"id":"7c9e6679-7425-40de-944b-e07fc1f90ae7","name":"New Product","price":29.99,"sku":"SKU-001","stock":0,"updated_at":"2026-11-26T09:30:00Z"}},"TokenPair":{"value":{"access_token":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.access.signature","expires_in":900,"refresh_token":"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.refresh.signature","token_type":"bearer"}},"User":{"value":{"created_at":"2026-11-26T09:30:00Z","email":"user@example.com","id":"3fa85f64-5717-4562-b3fc-2c963f66afa6","is_active":true,"role":"user","updated_at":"2026-11-26T09:30:00Z","username":"user1"}}},"headers":{"ETag":{"description":"A strong validator of the representation; send it back in `If-None-Match`.","required":true,"schema":{"type":"string"}},"Location":{"description":"The URL of the created resource.","required":true,"schema":{"format":"uri-reference","type":"string"}},"NoStore":{"description":"Answers with tokens or a user's data are never stored by caches.","required":true,"schema":{"const":"no-store","type":"string"}},"PageLinks":{"description":"Links (RFC 8288) to other pages of the same query, relative to the server: `first` always; `next` when there is a next page; `prev` on a numbered page past the first; `last` when the number of pages is known (not past a capped total). Product pages link `next` by cursor, for example `</api/v1/products?category=Home&cursor=eyJ2Ijox>; rel=\"next\"`; user pages by number, `</api/v1/users?page=3>; rel=\"next\"`.","required":true,"schema":{"type":"string"}},"RateLimitLimit":{"description":"The number of requests the limit that was reached allows in its window.","required":true,"schema":{"pattern":"^[0-9]+$","type":"string"}},"RateLimitRemaining":{"description":"Requests left in the current window (`0` on a `429`).","required":true,"schema":{"pattern":"^[0-9]+$","type":"string"}},"RateLimitReset":{"description":"Seconds until the window resets.","required":true,"schema":{"pattern":"^[0-9]+$","type":"string"}},"RetryAfter":{"description":"Seconds to wait before trying again.","required":true,"schema":{"pattern":"^[0-9]+$","type":"string"}},"RetryAfterWhenTemporary":{"description":"Seconds to wait before trying again, when the cause is temporary (absent when no model is configured).","required":false,"schema":{"pattern":"^[0-9]+$","type":"string"}},"WwwAuthenticate":{"description":"The authentication scheme, `Bearer`.","required":true,"schema":{"type":"string"}},"XCache":{"description":"Whether the answer came from the cache (`HIT`) or was built from the database (`MISS`).","required":true,"schema":{"enum":["HIT","MISS"],"type":"string"}}},"parameters":{"Cursor":{"description":"Opaque: the `next_cursor` of a page of the same query (the same filters, `q`, `sort_by` and `sort_order`; `page_size` may differ). The answer is the page after that one. A cursor of another query, or one this API did not issue, is a 422 on `cursor`.","in":"query","name":"cursor","schema":{"maxLength":2048,"minLength":1,"pattern":"^[A-Za-z0-9_-]+$","type":"string"}},"IfNoneMatch":{"description":"An `ETag` from an earlier answer; when it is still current the answer is 304 with no body.","in":"header","name":"If-None-Match","schema":{"maxLength":1000,"type":"string"}},"MatchLimit":{"description":"How many products to answer at most.","in":"query","name":"limit","schema":{"default":10,"maximum":50,"minimum":1,"type":"integer"}},"Page":{"description":"Page number, from 1.","in":"query","name":"page","schema":{"default":1,"maximum":10000,"minimum":1,"type":"integer"}},"PageSize":{"description":"Items per page.","in":"query","name":"page_size","schema":{"default":10,"maximum":100,"minimum":1,"type":"integer"}},"ProductId":{"in":"path","name":"product_id","required":true,"schema":{"format":"uuid","type":"string"}},"ProductPageNumber":{"description":"Page number, from 1, within the page window: `page` \u00d7 `page_size` at most 10,000 (past it a 422 that names `cursor`: deeper pages are read by cursor). With `cursor`, only 1 (or absent), else a 422 on `cursor`.","in":"query","name":"page","schema":{"default":1,"maximum":10000,"minimum":1,"type":"integer"}},"UserId":{"in":"path","name":"user_id","required":true,"schema":{"format":"uuid","type":"string"}}},"responses":{"BadGateway":{"content":{"application/problem+json":{"example":{"detail":"The language model provider answered 500.","status":502,"title":"Bad gateway","type":"urn:catalog-api:problem:llm-failed"},"schema":{"$ref":"#/components/schemas/Problem"}}},"description":"The language model provider failed or answered something unusable (the detail never repeats the provider's own message)."},"BadRequest":{"content":{"application/problem+json":{"example":{"detail":"The request body is not valid JSON.","status":400,"title":"Malformed request body","type":"urn:catalog-api:problem:malformed-body"},"schema":{"$ref":"#/components/schemas/Problem"}}},"description":"The body is not well-formed (for example, not valid JSON)."},"Conflict":{"content":{"application/problem+json":{"example":{"detail":"A product with this SKU already exists.","status":409,"title":"Conflict","type":"urn:catalog-api:problem:conflict"},"schema":{"$ref":"#/components/schemas/Problem"}}},"description":"The request conflicts with the current state (a duplicate, or the last admin)."},"Forbidden":{"content":{"application/problem+json":{"example":{"detail":"This operation needs the admin scope.","status":403,"title":"Forbidden","type":"urn:catalog-api:problem:forbidden"},"schema":{"$ref":"#/components/schemas/Problem"}}},"description":"The caller may not do this."},"GatewayTimeout":{"content":{"application/problem+json":{"example":{"detail":"The language model provider did not answer within 30 seconds.","status":504,"title":"Gateway timeout","type":"urn:catalog-api:problem:llm-timeout"},"schema":{"$ref":"#/components/schemas/Problem"}}},"description":"The language model provider did not answer within `LLM_TIMEOUT_SECONDS`."},"HeadersTooLarge":{"content":{"application/problem+json":{"example":{"detail":"The request header fields exceed 16384 bytes.","status":431,"title":"Request header fields too large","type":"urn:catalog-api:problem:headers-too-large"},"schema":{"$ref":"#/components/schemas/Problem"}}},"description":"The request's header fields are larger than the server accepts."},"NotFound":{"content":{"application/problem+json":{"example":{"detail":"Product not found.","status":404,"title":"Not found","type":"urn:catalog-api:problem:not-found"},"schema":{"$ref":"#/components/schemas/Problem"}}},"description":"No such resource (deleted resources are not found either)."},"NotModified":{"description":"The representation still has the `ETag` sent in `If-None-Match`.","headers":{"ETag":{"$ref":"#/components/headers/ETag"},"X-Cache":{"$ref":"#/components/headers/XCache"}}},"PayloadTooLarge":{"content":{"application/problem+json":{"example":{"detail":"The request body exceeds 65536 bytes.","status":413,"title":"Payload too large","type":"urn:catalog-api:problem:payload-too-large"},"schema":{"$ref":"#/components/schemas/Problem"}}},"description":"The request body is larger than the server accepts (no valid request is this large)."},"RequestTimeout":{"content":{"application/problem+json":{"example":{"detail":"The request body did not arrive in time.","status":408,"title":"Request timeout","type":"urn:catalog-api:problem:request-timeout"},"schema":{"$ref":"#/components/schemas/Problem"}}},"description":"The request body did not arrive in time."},"ServiceOrModelUnavailable":{"content":{"application/problem+json":{"example":{"detail":"No language model is configured (LLM_BASE_URL and LLM_MODEL).","status":503,"title":"Service unavailable","type":"urn:catalog-api:problem:llm-not-configured"},"schema":{"$ref":"#/components/schemas/Problem"}}},"description":"No language model is configured (`llm-not-configured`, no `Retry-After`), or the service cannot answer right now (database unavailable, too many requests in flight; with `Retry-After`).","headers":{"Retry-After":{"$ref":"#/components/headers/RetryAfterWhenTemporary"}}},"ServiceUnavailable":{"content":{"application/problem+json":{"example":{"detail":"The database is unavailable; try again shortly.","status":503,"title":"Service unavailable","type":"urn:catalog-api:problem:service-unavailable"},"schema":{"$ref":"#/components/schemas/Problem"}}},"description":"The service cannot answer right now: the database is unavailable (`database-unavailable`), a query ran past the database's time limit (`statement-timeout`), every password-hashing slot is busy, or too many requests are in flight. Try again after `Retry-After` seconds.","headers":{"Retry-After":{"$ref":"#/components/headers/RetryAfter"}}},"TooManyRequests":{"content":{"application/problem+json":{"example":{"detail":"Too many failed logins; try again in 600 seconds.","status":429,"title":"Too many requests","type":"urn:catalog-api:problem:too-many-requests"},"schema":{"$ref":"#/components/schemas/Problem"}}},"description":"Too many attempts: too many failed logins (wrong `current_password` checks included) for this account from this address (or for this account from addresses it never signed in from), or too many requests from this address. Wait `Retry-After` seconds.","headers":{"RateLimit-Limit":{"$ref":"#/components/headers/RateLimitLimit"},"RateLimit-Remaining":{"$ref":"#/components/headers/RateLimitRemaining"},"RateLimit-Reset":{"$ref":"#/components/headers/RateLimitReset"},"Retry-After":{"$ref":"#/components/headers/RetryAfter"}}},"Unauthorized":{"content":{"application/problem+json":{"example":{"detail":"Could not validate credentials.","status":401,"title":"Unauthorized","type":"urn:catalog-api:problem:unauthorized"},"schema":{"$ref":"#/components/schemas/Problem"}}},"description":"Missing, invalid or expired credentials.","headers":{"WWW-Authenticate":{"$ref":"#/components/headers/WwwAuthenticate"}}},"UnsupportedMediaType":{"content":{"application/problem+json":{"example":{"detail":"This operation takes application/json.","status":415,"title":"Unsupported media type","type":"urn:catalog-api:problem:unsupported-media-type"},"schema":{"$ref":"#/components/schemas/Problem"}}},"description":"The body's media type is not the one this operation takes."},"UriTooLong":{"content":{"application/problem+json":{"example":{"detail":"The request target exceeds 8192 bytes.","status":414,"title":"URI too long","type":"urn:catalog-api:problem:uri-too-long"},"schema":{"$ref":"#/components/schemas/Problem"}}},"description":"The request target (path and query) is longer than the server accepts."},"ValidationFailed":{"content":{"application/problem+json":{"example":{"detail":"The request does not match the API's schema.","errors":[{"loc":["body","price"],"msg":"0 is less than the minimum of 0.01","type":"minimum"}],"status":422,"title":"Validation failed","type":"urn:catalog-api:problem:validation-error"},"schema":{"$ref":"#/components/schemas/Problem"}}},"description":"The request does not match this document."}},"schemas":{"CheckStatus":{"enum":["ok","unavailable"],"type":"string"},"DescriptionDraft":{"properties":{"description":{"description":"The draft, trimmed to what `ProductUpdate.description` accepts.","maxLength":2000,"minLength":1,"pattern":"^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F]*$","type":"string"},"model":{"description":"The model that wrote it, as the provider named it.","type":"string"},"product_id":{"format":"uuid","type":"string"}},"required":["product_id","description","model"],"type":"object"},"FieldError":{"properties":{"loc":{"description":"Where the error is, for example `[body, price]` or `[query, page]`.","items":{"type":["string","integer"]},"type":"array"},"msg":{"type":"string"},"type":{"type":"string"}},"required":["loc","msg","type"],"type":"object"},"ImportLineError":{"properties":{"errors":{"items":{"$ref":"#/components/schemas/FieldError"},"minItems":1,"type":"array"},"line":{"description":"The line's number in the body, counting from 1.","minimum":1,"type":"integer"}},"required":["line","errors"],"type":"object"},"ImportReport":{"description":"What an import did; `created + updated + rejected` is the number of non-blank lines read.","properties":{"created":{"minimum":0,"type":"integer"},"errors":{"description":"The first 100 rejected lines, in line order.","items":{"$ref":"#/components/schemas/ImportLineError"},"maxItems":100,"type":"array"},"rejected":{"minimum":0,"type":"integer"},"updated":{"minimum":0,"type":"integer"}},"required":["created","updated","rejected","errors"],"type":"object"},"Liveness":{"properties":{"revision":{"description":"The source revision (git) the running build was made from; null when unknown.","type":["string","null"]},"status":{"const":"ok","type":"string"},"version":{"description":"The API's version (this document's `info.version`, which is the package's).","type":"string"}},"required":["status","version","revision"],"type":"object"},"LoginForm":{"additionalProperties":false,"description":"An OAuth2 password grant request.","properties":{"client_id":{"maxLength":255,"type":"string"},"client_secret":{"maxLength":255,"type":"string"},"grant_type":{"enum":["password"],"type":"string"},"password":{"maxLength":128,"minLength":1,"type":"string","writeOnly":true},"scope":{"description":"Ignored; scopes follow the account's role.","maxLength":1000,"type":"string"},"username":{"description":"A username or an email.","maxLength":254,"minLength":1,"pattern":"^[^\\x00-\\x1F\\x7F\\u2028\\u2029\\u202A-\\u202E\\u2066-\\u2069]*$","type":"string"}},"required":["username","password"],"type":"object"},"LoginJson":{"additionalProperties":false,"properties":{"password":{"maxLength":128,"minLength":1,"type":"string","writeOnly":true},"username":{"description":"A username or an email.","maxLength":254,"minLength":1,"pattern":"^[^\\x00-\\x1F\\x7F\\u2028\\u2029\\u202A-\\u202E\\u2066-\\u2069]*$","type":"string"}},"required":["username","password"],"type":"object"},"Problem":{"description":"An RFC 9457 problem detail.","properties":{"detail":{"type":"string"},"errors":{"description":"The offending fields, for validation errors.","items":{"$ref":"#/components/schemas/FieldError"},"type":"array"},"request_id":{"description":"The request's id, as in its `X-Request-ID` header (quote it when reporting a problem).","type":"string"},"status":{"maximum":599,"minimum":400,"type":"integer"},"title":{"type":"string"},"type":{"format":"uri-reference","type":"string"}},"required":["type","title","status","detail"],"type":"object"},"Product":{"properties":{"category":{"type":["string","null"]},"created_at":{"format":"date-time","type":"string"},"description":{"type":["string","null"]},"id":{"format":"uuid","type":"string"},"name":{"type":"string"},"price":{"description":"Exact to the cent (stored as integer cents; always two decimal places or fewer).","maximum":99999999.99,"minimum":0.01,"multipleOf":0.01,"type":"number"},"sku":{"type":"string"},"stock":{"minimum":0,"type":"integer"},"updated_at":{"format":"date-time","type":"string"}},"required":["id","name","description","price","stock","category","sku","created_at","updated_at"],"type":"object"},"ProductCreate":{"additionalProperties":false,"properties":{"category":{"maxLength":100,"minLength":1,"pattern":"^[^\\x00-\\x1F\\x7F\\u2028\\u2029\\u202A-\\u202E\\u2066-\\u2069]*$","type":"string"},"description":{"description":"Tabs and newlines are allowed; other control characters are not.","maxLength":2000,"pattern":"^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F]*$","type":"string"},"name":{"maxLength":200,"minLength":1,"pattern":"^[^\\x00-\\x1F\\x7F\\u2028\\u2029\\u202A-\\u202E\\u2066-\\u2069]*$","type":"string"},"price":{"maximum":99999999.99,"minimum":0.01,"multipleOf":0.01,"type":"number"},"sku":{"maxLength":64,"minLength":1,"pattern":"^[A-Za-z0-9_.-]+$","type":"string"},"stock":{"description":"Units in stock; 0 when omitted.","maximum":2147483647,"minimum":0,"type":"integer"}},"required":["name","price","sku"],"type":"object"},"ProductMatches":{"description":"Products ranked by similarity; `scores[i]` is the cosine similarity of `items[i]`.","properties":{"items":{"items":{"$ref":"#/components/schemas/Product"},"maxItems":50,"type":"array"},"scores":{"items":{"maximum":1,"minimum":-1,"type":"number"},"maxItems":50,"type":"array"}},"required":["items","scores"],"type":"object"},"ProductPage":{"description":"One page of products. Matches are counted up to 1,000: past that, `total` is 1,000, `total_exact` is false, and `pages` is null (the number of pages is unknown; follow `next_cursor`).","properties":{"items":{"items":{"$ref":"#/components/schemas/Product"},"type":"array"},"next_cursor":{"description":"Send as `cursor` (with the same query) for the next page; null on the last page.","maxLength":2048,"pattern":"^[A-Za-z0-9_-]+$","type":["string","null"]},"page":{"description":"The page number; null on a page asked for by `cursor`.","minimum":1,"type":["integer","null"]},"page_size":{"minimum":1,"type":"integer"},"pages":{"description":"The number of pages; null when `total_exact` is false (it would understate).","minimum":0,"type":["integer","null"]},"total":{"description":"The number of matches, counted up to 1,000.","maximum":1000,"minimum":0,"type":"integer"},"total_exact":{"description":"False when there are more than 1,000 matches and `total` stops at 1,000.","type":"boolean"}},"required":["items","total","total_exact","page","page_size","pages","next_cursor"],"type":"object"},"ProductSortField":{"default":"created_at","enum":["name","price","created_at","stock"],"type":"string"},"ProductUpdate":{"additionalProperties":false,"description":"A partial update; at least one field.","minProperties":1,"properties":{"category":{"maxLength":100,"minLength":1,"pattern":"^[^\\x00-\\x1F\\x7F\\u2028\\u2029\\u202A-\\u202E\\u2066-\\u2069]*$","type":"string"},"description":{"description":"Tabs and newlines are allowed; other control characters are not.","maxLength":2000,"pattern":"^[^\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F]*$","type":"string"},"name":{"maxLength":200,"minLength":1,"pattern":"^[^\\x00-\\x1F\\x7F\\u2028\\u2029\\u202A-\\u202E\\u2066-\\u2069]*$","type":"string"},"price":{"maximum":99999999.99,"minimum":0.01,"multipleOf":0.01,"type":"number"},"sku":{"maxLength":64,"minLength":1,"pattern":"^[A-Za-z0-9_.-]+$","type":"string"},"stock":{"maximum":2147483647,"minimum":0,"type":"integer"}},"type":"object"},"Readiness":{"properties":{"checks":{"properties":{"cache":{"$ref":"#/components/schemas/CheckStatus"},"database":{"$ref":"#/components/schemas/CheckStatus"}},"required":["database","cache"],"type":"object"},"status":{"$ref":"#/components/schemas/CheckStatus"}},"required":["status","checks"],"type":"object"},"RecommendationSource":{"description":"`history`: near the products this user viewed; `popular`: products many established accounts viewed (or the newest), for a user without usable history.","enum":["history","popular"],"type":"string"},"Recommendations":{"properties":{"items":{"items":{"$ref":"#/components/schemas/Product"},"maxItems":50,"type":"array"},"source":{"$ref":"#/components/schemas/RecommendationSource"}},"required":["items","source"],"type":"object"},"RefreshForm":{"additionalProperties":false,"description":"An OAuth2 refresh-token grant (RFC 6749 section 6).","properties":{"client_id":{"maxLength":255,"type":"string"},"client_secret":{"maxLength":255,"type":"string","writeOnly":true},"grant_type":{"enum":["refresh_token"],"type":"string"},"refresh_token":{"maxLength":4096,"minLength":1,"type":"string","writeOnly":true},"scope":{"description":"Ignored; scopes follow the account's role.","maxLength":1000,"type":"string"}},"required":["grant_type","refresh_token"],"type":"object"},"RefreshRequest":{"additionalProperties":false,"properties":{"refresh_token":{"maxLength":4096,"minLength":1,"type":"string","writeOnly":true}},"required":["refresh_token"],"type":"object"},"Role":{"enum":["admin","user"],"type":"string"},"RoleUpdate":{"additionalProperties":false,"properties":{"role":{"$ref":"#/components/schemas/Role"}},"required":["role"],"type":"object"},"SortOrder":{"default":"desc","enum":["asc","desc"],"type":"string"},"TokenPair":{"properties":{"access_token":{"type":"string"},"expires_in":{"description":"Seconds until the access token expires.","minimum":1,"type":"integer"},"refresh_token":{"type":"string"},"token_type":{"const":"bearer","type":"string"}},"required":["access_token","refresh_token","token_type","expires_in"],"type":"object"},"User":{"properties":{"created_at":{"format":"date-time","type":"string"},"email":{"maxLength":254,"type":"string"},"id":{"format":"uuid","type":"string"},"is_active":{"type":"boolean"},"role":{"$ref":"#/components/schemas/Role"},"updated_at":{"format":"date-time","type":"string"},"username":{"type":"string"}},"required":["id","email","username","role","is_active","created_at","updated_at"],"type":"object"},"UserPage":{"properties":{"items":{"items":{"$ref":"#/components/schemas/User"},"type":"array"},"page":{"minimum":1,"type":"integer"},"page_size":{"minimum":1,"type":"integer"},"pages":{"minimum":0,"type":"integer"},"total":{"minimum":0,"type":"integer"}},"required":["items","total","page","page_size","pages"],"type":"object"},"UserRegister":{"additionalProperties":false,"properties":{"email":{"format":"email","maxLength":254,"type":"string"},"password":{"description":"Any Unicode, 8 to 128 characters, not whitespace only; a common or easily guessed password (NIST SP 800-63B) is refused with a 422 of type `password-policy`.","maxLength":128,"minLength":8,"type":"string","writeOnly":true},"username":{"maxLength":32,"minLength":3,"pattern":"^[A-Za-z0-9_.-]+$","type":"string"}},"required":["email","username","password"],"type":"object"},"UserUpdate":{"additionalProperties":false,"dependentSchemas":{"current_password":{"anyOf":[{"required":["password"]},{"required":["email"]}]}},"description":"A partial update; at least one field. `current_password` goes with `password` or `email`, and is required when a user changes its own.","minProperties":1,"properties":{"current_password":{"description":"Required when a user changes its own password (403 when missing or wrong).","maxLength":128,"minLength":1,"type":"string","writeOnly":true},"email":{"format":"email","maxLength":254,"type":"string"},"is_active":{"description":"Admins only.","type":"boolean"},"password":{"description":"Any Unicode, 8 to 128 characters, not whitespace only; a common or easily guessed password (NIST SP 800-63B) is refused with a 422 of type `password-policy`.","maxLength":128,"minLength":8,"type":"string","writeOnly":true},"username":{"maxLength":32,"minLength":3,"pattern":"^[A-Za-z0-9_.-]+$","type":"string"}},"type":"object"}},"securitySchemes":{"OAuth2":{"description":"OAuth2 password flow; send the access token as `Authorization: Bearer <token>`.","flows":{"password":{"refreshUrl":"/api/v1/auth/refresh","scopes":{"admin":"Manage products and all users."},"tokenUrl":"/api/v1/auth/login"}},"type":"oauth2"}}},"x-operations":{"createProduct":{"bodies":{"application/json":{"$ref":"#/components/schemas/ProductCreate"}},"parameters":{"properties":{"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{},"required":[],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"type":"object"}},"deleteProduct":{"bodies":{},"parameters":{"properties":{"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{"product_id":{"format":"uuid","type":"string"}},"required":["product_id"],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"type":"object"}},"deleteUser":{"bodies":{},"parameters":{"properties":{"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{"user_id":{"format":"uuid","type":"string"}},"required":["user_id"],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"type":"object"}},"exportProducts":{"bodies":{},"parameters":{"properties":{"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{},"required":[],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"type":"object"}},"generateProductDescription":{"bodies":{},"parameters":{"properties":{"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{"product_id":{"format":"uuid","type":"string"}},"required":["product_id"],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"type":"object"}},"getCurrentUser":{"bodies":{},"parameters":{"properties":{"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{},"required":[],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"type":"object"}},"getLiveness":{"bodies":{},"parameters":{"properties":{"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{},"required":[],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"type":"object"}},"getMetrics":{"bodies":{},"parameters":{"properties":{"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{},"required":[],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"type":"object"}},"getProduct":{"bodies":{},"parameters":{"properties":{"header":{"properties":{"If-None-Match":{"maxLength":1000,"type":"string"}},"required":[],"type":"object"},"path":{"properties":{"product_id":{"format":"uuid","type":"string"}},"required":["product_id"],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"type":"object"}},"getReadiness":{"bodies":{},"parameters":{"properties":{"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{},"required":[],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"type":"object"}},"getRecommendations":{"bodies":{},"parameters":{"properties":{"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{},"required":[],"type":"object"},"query":{"properties":{"limit":{"default":10,"maximum":50,"minimum":1,"type":"integer"}},"required":[],"type":"object"}},"type":"object"}},"getSimilarProducts":{"bodies":{},"parameters":{"properties":{"header":{"properties":{"If-None-Match":{"maxLength":1000,"type":"string"}},"required":[],"type":"object"},"path":{"properties":{"product_id":{"format":"uuid","type":"string"}},"required":["product_id"],"type":"object"},"query":{"properties":{"limit":{"default":10,"maximum":50,"minimum":1,"type":"integer"}},"required":[],"type":"object"}},"type":"object"}},"getUser":{"bodies":{},"parameters":{"properties":{"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{"user_id":{"format":"uuid","type":"string"}},"required":["user_id"],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"type":"object"}},"importProducts":{"bodies":{},"parameters":{"properties":{"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{},"required":[],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"type":"object"}},"listProducts":{"bodies":{},"parameters":{"properties":{"header":{"properties":{"If-None-Match":{"maxLength":1000,"type":"string"}},"required":[],"type":"object"},"path":{"properties":{},"required":[],"type":"object"},"query":{"properties":{"category":{"maxLength":100,"minLength":1,"pattern":"^[^\\x00-\\x1F\\x7F\\u2028\\u2029\\u202A-\\u202E\\u2066-\\u2069]*$","type":"string"},"cursor":{"maxLength":2048,"minLength":1,"pattern":"^[A-Za-z0-9_-]+$","type":"string"},"in_stock_only":{"default":false,"type":"boolean"},"max_price":{"maximum":99999999.99,"minimum":0,"type":"number"},"min_price":{"maximum":99999999.99,"minimum":0,"type":"number"},"name":{"maxLength":200,"minLength":1,"pattern":"^[^\\x00-\\x1F\\x7F\\u2028\\u2029\\u202A-\\u202E\\u2066-\\u2069]*$","type":"string"},"page":{"default":1,"maximum":10000,"minimum":1,"type":"integer"},"page_size":{"default":10,"maximum":100,"minimum":1,"type":"integer"},"sort_by":{"$ref":"#/components/schemas/ProductSortField"},"sort_order":{"$ref":"#/components/schemas/SortOrder"}},"required":[],"type":"object"}},"type":"object"}},"listUsers":{"bodies":{},"parameters":{"properties":{"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{},"required":[],"type":"object"},"query":{"properties":{"page":{"default":1,"maximum":10000,"minimum":1,"type":"integer"},"page_size":{"default":10,"maximum":100,"minimum":1,"type":"integer"}},"required":[],"type":"object"}},"type":"object"}},"loginForm":{"bodies":{"application/x-www-form-urlencoded":{"$ref":"#/components/schemas/LoginForm"}},"parameters":{"properties":{"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{},"required":[],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"type":"object"}},"loginJson":{"bodies":{"application/json":{"$ref":"#/components/schemas/LoginJson"}},"parameters":{"properties":{"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{},"required":[],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"type":"object"}},"refreshTokens":{"bodies":{"application/json":{"$ref":"#/components/schemas/RefreshRequest"},"application/x-www-form-urlencoded":{"$ref":"#/components/schemas/RefreshForm"}},"parameters":{"properties":{"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{},"required":[],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"type":"object"}},"registerUser":{"bodies":{"application/json":{"$ref":"#/components/schemas/UserRegister"}},"parameters":{"properties":{"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{},"required":[],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"type":"object"}},"searchProducts":{"bodies":{},"parameters":{"properties":{"header":{"properties":{"If-None-Match":{"maxLength":1000,"type":"string"}},"required":[],"type":"object"},"path":{"properties":{},"required":[],"type":"object"},"query":{"properties":{"cursor":{"maxLength":2048,"minLength":1,"pattern":"^[A-Za-z0-9_-]+$","type":"string"},"page":{"default":1,"maximum":10000,"minimum":1,"type":"integer"},"page_size":{"default":10,"maximum":100,"minimum":1,"type":"integer"},"q":{"maxLength":100,"minLength":1,"pattern":"^[^\\x00-\\x1F\\x7F\\u2028\\u2029\\u202A-\\u202E\\u2066-\\u2069]*$","type":"string"}},"required":["q"],"type":"object"}},"type":"object"}},"smartSearch":{"bodies":{},"parameters":{"properties":{"header":{"properties":{"If-None-Match":{"maxLength":1000,"type":"string"}},"required":[],"type":"object"},"path":{"properties":{},"required":[],"type":"object"},"query":{"properties":{"limit":{"default":10,"maximum":50,"minimum":1,"type":"integer"},"q":{"maxLength":200,"minLength":1,"pattern":"^[^\\x00-\\x1F\\x7F\\u2028\\u2029\\u202A-\\u202E\\u2066-\\u2069]*$","type":"string"}},"required":["q"],"type":"object"}},"type":"object"}},"updateProduct":{"bodies":{"application/json":{"$ref":"#/components/schemas/ProductUpdate"}},"parameters":{"properties":{"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{"product_id":{"format":"uuid","type":"string"}},"required":["product_id"],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"type":"object"}},"updateUser":{"bodies":{"application/json":{"$ref":"#/components/schemas/UserUpdate"}},"parameters":{"properties":{"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{"user_id":{"format":"uuid","type":"string"}},"required":["user_id"],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"type":"object"}},"updateUserRole":{"bodies":{"application/json":{"$ref":"#/components/schemas/RoleUpdate"}},"parameters":{"properties":{"header":{"properties":{},"required":[],"type":"object"},"path":{"properties":{"user_id":{"format":"uuid","type":"string"}},"required":["user_id"],"type":"object"},"query":{"properties":{},"required":[],"type":"object"}},"type":"object"}}}}"""
)

CONTRACT = Contract(
    title="catalog-api",
    version="1.0.0",
    operations=(
        Operation(
            operation_id="registerUser",
            tag="auth",
            interface=auth.AuthApi,
            method="POST",
            path="/api/v1/auth/register",
            function_name="register_user",
            parameters=(),
            query_type=None,
            bodies=(
                RequestBody(
                    "application/json",
                    models.UserRegister,
                    frozenset(
                        {
                            "password",
                        }
                    ),
                ),
            ),
            security=(),
            statuses=frozenset({201, 400, 408, 409, 413, 414, 415, 422, 429, 431, 503}),
        ),
        Operation(
            operation_id="loginForm",
            tag="auth",
            interface=auth.AuthApi,
            method="POST",
            path="/api/v1/auth/login",
            function_name="login_form",
            parameters=(),
            query_type=None,
            bodies=(
                RequestBody(
                    "application/x-www-form-urlencoded",
                    models.LoginForm,
                    frozenset(
                        {
                            "password",
                        }
                    ),
                ),
            ),
            security=(),
            statuses=frozenset({200, 400, 401, 408, 413, 414, 415, 422, 429, 431, 503}),
        ),
        Operation(
            operation_id="loginJson",
            tag="auth",
            interface=auth.AuthApi,
            method="POST",
            path="/api/v1/auth/login/json",
            function_name="login_json",
            parameters=(),
            query_type=None,
            bodies=(
                RequestBody(
                    "application/json",
                    models.LoginJson,
                    frozenset(
                        {
                            "password",
                        }
                    ),
                ),
            ),
            security=(),
            statuses=frozenset({200, 400, 401, 408, 413, 414, 415, 422, 429, 431, 503}),
        ),
        Operation(
            operation_id="refreshTokens",
            tag="auth",
            interface=auth.AuthApi,
            method="POST",
            path="/api/v1/auth/refresh",
            function_name="refresh_tokens",
            parameters=(),
            query_type=None,
            bodies=(
                RequestBody(
                    "application/json",
                    models.RefreshRequest,
                    frozenset(
                        {
                            "refresh_token",
                        }
                    ),
                ),
                RequestBody(
                    "application/x-www-form-urlencoded",
                    models.RefreshForm,
                    frozenset(
                        {
                            "client_secret",
                            "refresh_token",
                        }
                    ),
                ),
            ),
            security=(),
            statuses=frozenset({200, 400, 401, 408, 413, 414, 415, 422, 429, 431, 503}),
        ),
        Operation(
            operation_id="getCurrentUser",
            tag="auth",
            interface=auth.AuthApi,
            method="GET",
            path="/api/v1/auth/me",
            function_name="get_current_user",
            parameters=(),
            query_type=None,
            bodies=(),
            security=(
                SecurityRequirement(
                    {
                        "OAuth2": (),
                    }
                ),
            ),
            statuses=frozenset({200, 401, 414, 431, 503}),
        ),
        Operation(
            operation_id="listProducts",
            tag="products",
            interface=products.ProductsApi,
            method="GET",
            path="/api/v1/products",
            function_name="list_products",
            parameters=(
                Parameter("page", "query", "page", "integer", int),
                Parameter("page_size", "query", "page_size", "integer", int),
                Parameter("cursor", "query", "cursor", "string", str),
                Parameter("name", "query", "name", "string", str),
                Parameter("category", "query", "category", "string", str),
                Parameter("min_price", "query", "min_price", "number", float),
                Parameter("max_price", "query", "max_price", "number", float),
                Parameter("in_stock_only", "query", "in_stock_only", "boolean", bool),
                Parameter(
                    "sort_by", "query", "sort_by", "string", models.ProductSortField
                ),
                Parameter(
                    "sort_order", "query", "sort_order", "string", models.SortOrder
                ),
                Parameter("If-None-Match", "header", "if_none_match", "string", str),
            ),
            query_type=products.ListProductsQuery,
            bodies=(),
            security=(),
            statuses=frozenset({200, 304, 414, 422, 431, 503}),
        ),
        Operation(
            operation_id="createProduct",
            tag="products",
            interface=products.ProductsApi,
            method="POST",
            path="/api/v1/products",
            function_name="create_product",
            parameters=(),
            query_type=None,
            bodies=(
                RequestBody("application/json", models.ProductCreate, frozenset()),
            ),
            security=(
                SecurityRequirement(
                    {
                        "OAuth2": ("admin",),
                    }
                ),
            ),
            statuses=frozenset(
                {201, 400, 401, 403, 408, 409, 413, 414, 415, 422, 431, 503}
            ),
        ),
        Operation(
            operation_id="searchProducts",
            tag="products",
            interface=products.ProductsApi,
            method="GET",
            path="/api/v1/products/search",
            function_name="search_products",
            parameters=(
                Parameter("q", "query", "q", "string", str),
                Parameter("page", "query", "page", "integer", int),
                Parameter("page_size", "query", "page_size", "integer", int),
                Parameter("cursor", "query", "cursor", "string", str),
                Parameter("If-None-Match", "header", "if_none_match", "string", str),
            ),
            query_type=products.SearchProductsQuery,
            bodies=(),
            security=(),
            statuses=frozenset({200, 304, 414, 422, 431, 503}),
        ),
        Operation(
            operation_id="importProducts",
            tag="products",
            interface=products.ProductsApi,
            method="POST",
            path="/api/v1/products/import",
            function_name="import_products",
            parameters=(),
            query_type=None,
            bodies=(RequestBody("application/x-ndjson", None, streamed=True),),
            security=(
                SecurityRequirement(
                    {
                        "OAuth2": ("admin",),
                    }
                ),
            ),
            statuses=frozenset({200, 401, 403, 408, 409, 413, 414, 415, 422, 431, 503}),
        ),
        Operation(
            operation_id="exportProducts",
            tag="products",
            interface=products.ProductsApi,
            method="GET",
            path="/api/v1/products/export",
            function_name="export_products",
            parameters=(),
            query_type=None,
            bodies=(),
            security=(
                SecurityRequirement(
                    {
                        "OAuth2": ("admin",),
                    }
                ),
            ),
            statuses=frozenset({200, 401, 403, 414, 431, 503}),
        ),
        Operation(
            operation_id="getProduct",
            tag="products",
            interface=products.ProductsApi,
            method="GET",
            path="/api/v1/products/{product_id}",
            function_name="get_product",
            parameters=(
                Parameter("product_id", "path", "product_id", "string", UUID),
                Parameter("If-None-Match", "header", "if_none_match", "string", str),
            ),
            query_type=None,
            bodies=(),
            security=(
                SecurityRequirement({}),
                SecurityRequirement(
                    {
                        "OAuth2": (),
                    }
                ),
            ),
            statuses=frozenset({200, 304, 404, 414, 422, 431, 503}),
        ),
        Operation(
            operation_id="updateProduct",
            tag="products",
            interface=products.ProductsApi,
            method="PUT",
            path="/api/v1/products/{product_id}",
            function_name="update_product",
            parameters=(Parameter("product_id", "path", "product_id", "string", UUID),),
            query_type=None,
            bodies=(
                RequestBody("application/json", models.ProductUpdate, frozenset()),
            ),
            security=(
                SecurityRequirement(
                    {
                        "OAuth2": ("admin",),
                    }
                ),
            ),
            statuses=frozenset(
                {200, 400, 401, 403, 404, 408, 409, 413, 414, 415, 422, 431, 503}
            ),
        ),
        Operation(
            operation_id="deleteProduct",
            tag="products",
            interface=products.ProductsApi,
            method="DELETE",
            path="/api/v1/products/{product_id}",
            function_name="delete_product",
            parameters=(Parameter("product_id", "path", "product_id", "string", UUID),),
            query_type=None,
            bodies=(),
            security=(
                SecurityRequirement(
                    {
                        "OAuth2": ("admin",),
                    }
                ),
            ),
            statuses=frozenset({204, 401, 403, 404, 414, 422, 431, 503}),
        ),
        Operation(
            operation_id="getSimilarProducts",
            tag="ai",
            interface=ai.AiApi,
            method="GET",
            path="/api/v1/products/{product_id}/similar",
            function_name="get_similar_products",
            parameters=(
                Parameter("product_id", "path", "product_id", "string", UUID),
                Parameter("limit", "query", "limit", "integer", int),
                Parameter("If-None-Match", "header", "if_none_match", "string", str),
            ),
            query_type=ai.GetSimilarProductsQuery,
            bodies=(),
            security=(),
            statuses=frozenset({200, 304, 404, 414, 422, 431, 503}),
        ),
        Operation(
            operation_id="generateProductDescription",
            tag="ai",
            interface=ai.AiApi,
            method="POST",
            path="/api/v1/products/{product_id}/generate-description",
            function_name="generate_product_description",
            parameters=(Parameter("product_id", "path", "product_id", "string", UUID),),
            query_type=None,
            bodies=(),
            security=(
                SecurityRequirement(
                    {
                        "OAuth2": ("admin",),
                    }
                ),
            ),
            statuses=frozenset({200, 401, 403, 404, 414, 422, 431, 502, 503, 504}),
        ),
        Operation(
            operation_id="smartSearch",
            tag="ai",
            interface=ai.AiApi,
            method="GET",
            path="/api/v1/search/smart",
            function_name="smart_search",
            parameters=(
                Parameter("q", "query", "q", "string", str),
                Parameter("limit", "query", "limit", "integer", int),
                Parameter("If-None-Match", "header", "if_none_match", "string", str),
            ),
            query_type=ai.SmartSearchQuery,
            bodies=(),
            security=(),
            statuses=frozenset({200, 304, 414, 422, 431, 503}),
        ),
        Operation(
            operation_id="getRecommendations",
            tag="ai",
            interface=ai.AiApi,
            method="GET",
            path="/api/v1/recommendations",
            function_name="get_recommendations",
            parameters=(Parameter("limit", "query", "limit", "integer", int),),
            query_type=ai.GetRecommendationsQuery,
            bodies=(),
            security=(
                SecurityRequirement(
                    {
                        "OAuth2": (),
                    }
                ),
            ),
            statuses=frozenset({200, 401, 414, 422, 431, 503}),
        ),
        Operation(
            operation_id="listUsers",
            tag="users",
            interface=users.UsersApi,
            method="GET",
            path="/api/v1/users",
            function_name="list_users",
            parameters=(
                Parameter("page", "query", "page", "integer", int),
                Parameter("page_size", "query", "page_size", "integer", int),
            ),
            query_type=users.ListUsersQuery,
            bodies=(),
            security=(
                SecurityRequirement(
                    {
                        "OAuth2": ("admin",),
                    }
                ),
            ),
            statuses=frozenset({200, 401, 403, 414, 422, 431, 503}),
        ),
        Operation(
            operation_id="getUser",
            tag="users",
            interface=users.UsersApi,
            method="GET",
            path="/api/v1/users/{user_id}",
            function_name="get_user",
            parameters=(Parameter("user_id", "path", "user_id", "string", UUID),),
            query_type=None,
            bodies=(),
            security=(
                SecurityRequirement(
                    {
                        "OAuth2": (),
                    }
                ),
            ),
            statuses=frozenset({200, 401, 404, 414, 422, 431, 503}),
        ),
        Operation(
            operation_id="updateUser",
            tag="users",
            interface=users.UsersApi,
            method="PUT",
            path="/api/v1/users/{user_id}",
            function_name="update_user",
            parameters=(Parameter("user_id", "path", "user_id", "string", UUID),),
            query_type=None,
            bodies=(
                RequestBody(
                    "application/json",
                    models.UserUpdate,
                    frozenset(
                        {
                            "current_password",
                            "password",
                        }
                    ),
                ),
            ),
            security=(
                SecurityRequirement(
                    {
                        "OAuth2": (),
                    }
                ),
            ),
            statuses=frozenset(
                {200, 400, 401, 403, 404, 408, 409, 413, 414, 415, 422, 429, 431, 503}
            ),
        ),
        Operation(
            operation_id="deleteUser",
            tag="users",
            interface=users.UsersApi,
            method="DELETE",
            path="/api/v1/users/{user_id}",
            function_name="delete_user",
            parameters=(Parameter("user_id", "path", "user_id", "string", UUID),),
            query_type=None,
            bodies=(),
            security=(
                SecurityRequirement(
                    {
                        "OAuth2": ("admin",),
                    }
                ),
            ),
            statuses=frozenset({204, 401, 403, 404, 409, 414, 422, 431, 503}),
        ),
        Operation(
            operation_id="updateUserRole",
            tag="users",
            interface=users.UsersApi,
            method="PUT",
            path="/api/v1/users/{user_id}/role",
            function_name="update_user_role",
            parameters=(Parameter("user_id", "path", "user_id", "string", UUID),),
            query_type=None,
            bodies=(RequestBody("application/json", models.RoleUpdate, frozenset()),),
            security=(
                SecurityRequirement(
                    {
                        "OAuth2": ("admin",),
                    }
                ),
            ),
            statuses=frozenset(
                {200, 400, 401, 403, 404, 408, 409, 413, 414, 415, 422, 431, 503}
            ),
        ),
        Operation(
            operation_id="getLiveness",
            tag="health",
            interface=health.HealthApi,
            method="GET",
            path="/health",
            function_name="get_liveness",
            parameters=(),
            query_type=None,
            bodies=(),
            security=(),
            statuses=frozenset({200, 414, 431}),
        ),
        Operation(
            operation_id="getReadiness",
            tag="health",
            interface=health.HealthApi,
            method="GET",
            path="/health/ready",
            function_name="get_readiness",
            parameters=(),
            query_type=None,
            bodies=(),
            security=(),
            statuses=frozenset({200, 414, 431, 503}),
        ),
        Operation(
            operation_id="getMetrics",
            tag="metrics",
            interface=metrics.MetricsApi,
            method="GET",
            path="/metrics",
            function_name="get_metrics",
            parameters=(),
            query_type=None,
            bodies=(),
            security=(),
            statuses=frozenset({200, 414, 431}),
        ),
    ),
    security_schemes={
        "OAuth2": SecurityScheme("OAuth2", "oauth2", None),
    },
    validation_root=_VALIDATION_ROOT,
)
