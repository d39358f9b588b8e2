"""Which passwords are accepted: NIST SP 800-63B (section 3.1.1.2), no network.

At least 8 characters (at most 128: the spec's bounds), not whitespace alone, and
not common or easy to guess: zxcvbn's estimate against the dictionaries it ships
(common and leaked passwords, names, English words, keyboard patterns, dates,
l33t spellings), with the account's own username and email and this service's
name as extra words. A score below 2 (fewer than a million guesses) is refused.

zxcvbn's cost grows faster than the length (measured here: 3-7 ms for typical
16-character passwords, 0.5 s for 100 random characters, over 2 s for 64
characters of l33t symbols), so only the first `ANALYSED_PREFIX` characters are
analysed: at most ~0.15 s. A password whose first 16 characters are strong is
at least as strong; one that starts with 16 weak ones is refused even if more
follows (a safe-side error that long passphrases rarely meet).

`refusal` is synchronous and CPU-bound: callers run it off the event loop.

`guess_bits` judges keys rather than passwords (SECRET_KEY): log2 of zxcvbn's
guess count over the first `MAX_ANALYSED_KEY` characters (zxcvbn refuses longer
input), about 10 ms for 64 random characters.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence

from zxcvbn import zxcvbn

MIN_LENGTH, MAX_LENGTH = 8, 128
ANALYSED_PREFIX = 16
MIN_SCORE = 2
SERVICE_WORDS = ("catalog", "catalog-api", "catalogapi")
MAX_ANALYSED_KEY = 72  # zxcvbn's own maximum length

# zxcvbn keeps each call's user inputs in a module-level dictionary: concurrent calls
# from several threads would judge one password with another account's words.
_ZXCVBN = threading.Lock()


def account_words(*, username: str | None, email: str | None) -> tuple[str, ...]:
    """The words of an account that its password must not lean on."""
    words = [word for word in (username, email) if word]
    if email and "@" in email:
        words.append(email.rsplit("@", 1)[0])
    return tuple(words)


def refusal(password: str, *, user_inputs: Sequence[str] = ()) -> str | None:
    """Why `password` is refused, in words that never repeat it; None when it is accepted."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return f"must be {MIN_LENGTH} to {MAX_LENGTH} characters"
    if not password.strip():
        return "must not be only whitespace"
    with _ZXCVBN:
        estimate = zxcvbn(password[:ANALYSED_PREFIX], user_inputs=[*user_inputs, *SERVICE_WORDS])
    if estimate["score"] >= MIN_SCORE:
        return None
    # zxcvbn's warnings are fixed sentences ("This is a top-10 common password."), never the password.
    warning = str(estimate["feedback"]["warning"] or "").strip().rstrip(".")
    reason = f" ({warning[0].lower()}{warning[1:]})" if warning else ""
    return f"is too common or too easy to guess{reason}; choose a longer, less predictable one"


def guess_bits(key: str) -> float:
    """log2 of the guesses zxcvbn estimates for `key` (dictionary words, sequences, repeats and keyboard
    patterns cost little; a random character about 3.3 bits): a key past 128 resists an offline search."""
    with _ZXCVBN:
        estimate = zxcvbn(key[:MAX_ANALYSED_KEY])
    return math.log2(float(estimate["guesses"]))
