"""The runtime that code generated from openapi.yaml imports: ordinary, hand-written Python.

Framework-free modules (an implementation may import these):
    principal   Principal, Authenticator
    results     Result (the base of every generated per-status response), RawJson
    operations  the data the generator writes per operation
    problems    RequestRejected, FieldIssue, Problem
    streams     RequestStream (a request body read as it arrives), ClientDisconnected
    text        request bytes and JSON strings to text: lone surrogates and non-UTF-8 are `NOT_TEXT`, a 422

The HTTP side (imports nothing of the implementation):
    validation  JSON Schema validation of requests against the spec's own schemas
    binding     operations + implementations -> bound handlers; refuses missing ones
    asgi        ContractRouter: routing from the spec's paths, parsing, security, responses
"""
