"""Does an answer stand on lines of the outcome its question asks about?

Asked "when did the MapReduce application master first log an error talking to the
ResourceManager?", the 1.5B model grepped "ResourceManager", found one INFO line
("Connecting to ResourceManager at ...") and answered its time; the log's 147 ERROR lines
say "ERROR IN CONTACTING RM". Asked whether anybody managed to log in, it grepped
"Failed password for" and answered a failed login's user and address; the one success is
an INFO line, "Accepted password for fztu from ...".

So when a question asks about an error (or a failure), and every log line the model
printed that holds a token of its answer was logged below warning, the answer is pushed
back once with the log's error lines, the first of each kind in log order (those sharing
the question's words are kept when there are many kinds). When a question asks about a
success and every such line was logged at warning or worse, it is pushed back once with
the first lines of the kinds below warning closest to the question; so is an answer that
says there was none ("No evidence of successful login attempts found", after a search of
the failures alone). Which line answers
stays the model's call: it may answer the same again, or answer from a line the pushback
showed (that counts as seen).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rlm_cli.engine.grounding import answer_tokens
from rlm_cli.engine.parse import says_nothing_found
from rlm_cli.logs.logmap import LogMap
from rlm_cli.logs.related import related_templates
from rlm_cli.logs.severity import Severity
from rlm_cli.logs.templates import Template

ASKS_ABOUT_ERROR = re.compile(
    r"\b(errors?|fail(s|ed|ing|ures?)?|exceptions?|crash(es|ed)?|panic(s|ked)?|fatal"
    r"|faults?|faulty)\b",
    re.IGNORECASE,
)
"""A question about an error or a failure ("first log an error", "which node will fail")."""

ASKS_ABOUT_SUCCESS = re.compile(
    r"\b(succe(ss|ssful|ssfully|ed|eded|eds)|manage[sd]? to|got in|logged in|accepted)\b",
    re.IGNORECASE,
)
"""A question about a success ("did anybody manage to log in", "which login succeeded")."""

PRINTED_LINE = re.compile(
    r"""^\s*(\d+): (.*)|\((\d+), (['"])((?:\\.|(?!\4).)*)(?:\4\)|$)""", re.MULTILINE
)
"""A log line as the REPL prints it: ``409: text`` (grep's hits) or ``(409, 'text')`` (a
pair in a list, several on one printed line; its end may be cut)."""
_NEGATED = re.compile(r"\b(never|no|not|without|none)\b|n't\b", re.IGNORECASE)
_NEGATIVE_ANSWER = re.compile(r"^\W*(not|never|nobody|no one)\b", re.IGNORECASE)

_TIME = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b")

ERROR_KINDS_SHOWN = 5
"""At most this many kinds of error line are shown with the pushback."""
SUCCESS_KINDS_SHOWN = 3
"""At most this many kinds of line below warning are shown with the pushback."""

ERROR = "error"
SUCCESS = "success"
NO_SUCCESS = "no success"
"""The mismatches :func:`mismatched_lines` tells apart: an error asked and calm lines, a
success asked and failures, a success asked and "none" answered."""


def asks_about_error(question: str) -> bool:
    """Whether ``question`` asks about an error, a failure, an exception or a crash."""
    return bool(ASKS_ABOUT_ERROR.search(question))


def asked_outcome(question: str) -> str:
    """``error`` or ``success``, the outcome ``question`` asks about; "" for neither, for
    both ("did the backup fail or succeed?"), or for one after a negation ("which hosts
    never logged an error?", "which connections were not accepted?"). Only its questions
    count, not a statement before them ("One host had a kernel panic. What is the IP
    address of that host's BMC?" asks for a DHCP lease, an INFO line)."""
    asking = asking_part(question)
    error, success = ASKS_ABOUT_ERROR.search(asking), ASKS_ABOUT_SUCCESS.search(asking)
    asked = error or success
    if asked is None or (error and success) or _NEGATED.search(asking[: asked.start()]):
        return ""
    return ERROR if error else SUCCESS


_SENTENCE = re.compile(
    r".*?(?:(?<!\be\.g)(?<!\bi\.e)(?<!\betc)(?<!\bvs)[.?!]+(?=\s|$)|$)", re.DOTALL
)
"""A sentence: up to a full stop, question or exclamation mark followed by a space or the
end (not the dots of ``10.0.0.5``, ``v2.5`` or ``e.g.``)."""


def asking_part(question: str) -> str:
    """The sentences of ``question`` that end with a question mark, and what follows the
    last of them; all of it when none does ("Name the node that failed.")."""
    sentences = [m.group(0) for m in _SENTENCE.finditer(question) if m.group(0).strip()]
    asks = [i for i, s in enumerate(sentences) if s.rstrip().endswith("?")]
    if not asks:
        return question
    return " ".join(s for i, s in enumerate(sentences) if i in asks or i > asks[-1])


def printed_lines(outputs: Iterable[str]) -> dict[int, str]:
    """The log lines the outputs printed with their numbers: number -> the text printed."""
    found: dict[int, str] = {}
    for out in outputs:
        for m in PRINTED_LINE.finditer(out):
            number, text = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(5))
            if int(number) >= 1:
                found.setdefault(int(number), text)
    return found


def answer_marks(answer: str) -> list[str]:
    """What in ``answer`` picks out a log line: its identifying tokens and times (a number
    under 100 is on too many lines to count)."""
    tokens = [*answer_tokens(answer), *_TIME.findall(answer)]
    return [t for t in tokens if not (t.isdigit() and len(t) < 3)]


def standing_lines(answer: str, printed: dict[int, str]) -> list[int]:
    """The printed lines holding one of ``answer``'s identifying tokens or times."""
    tokens = answer_marks(answer)
    if not tokens:
        return []
    return [n for n, text in printed.items() if any(_holds(text, t) for t in tokens)]


def error_kinds(question: str, logmap: LogMap, n: int = ERROR_KINDS_SHOWN) -> list[Template]:
    """Up to ``n`` of the log's kinds of line logged as errors or worse, in the order their
    first lines stand in the log; when there are more, those sharing most of the question's
    word stems are kept, then the most frequent."""
    errors = [t for t in logmap.mining.templates if _severity(logmap, t) >= Severity.ERROR]
    near = related_templates(question, errors, n, min_stems=1)
    rest = sorted((t for t in errors if t not in near), key=lambda t: -t.count)
    return sorted([*near, *rest][:n], key=lambda t: t.first_line)


def success_kinds(question: str, logmap: LogMap, n: int = SUCCESS_KINDS_SHOWN) -> list[Template]:
    """Up to ``n`` of the log's kinds of line logged below warning that share the
    question's word stems, those sharing most first."""
    calm = [t for t in logmap.mining.templates if _severity(logmap, t) < Severity.WARNING]
    return related_templates(question, calm, n, min_stems=1)


def denies_success(answer: str, question: str) -> bool:
    """Whether ``answer`` says there was none where ``question`` asks about a success ("No
    evidence of successful login attempts found": the 1.5B model had grepped only the
    failures)."""
    negative = says_nothing_found(answer) or _NEGATIVE_ANSWER.match(answer)
    return bool(negative) and asked_outcome(question) == SUCCESS


def first_line_of(logmap: LogMap, t: Template, outcome: str) -> int:
    """The first line of ``t`` of the ``outcome`` asked (logged as an error or worse; for a
    success, below warning): a template's severity is its worst line's, and its first line
    may be of another level."""
    severity = logmap.severity
    for n in logmap.lines_of(t.id):
        if n <= len(severity) and _of_outcome(severity[n - 1], outcome):
            return n
    return t.first_line


def _holds(text: str, token: str, flags: int = 0) -> bool:
    """Whether ``text`` holds ``token`` as a word: ``cn034`` in ``cn034-bmc``, not in
    ``cn0345``; ``18:00`` in ``18:00:05``, not in ``118:00``."""
    return re.search(rf"(?<![\w.]){re.escape(token)}(?![\w])", text, flags) is not None


def _of_outcome(level: int, outcome: str) -> bool:
    return level >= Severity.ERROR if outcome == ERROR else level < Severity.WARNING


def _severity(logmap: LogMap, t: Template) -> Severity:
    return Severity.parse(logmap.template_info(t)["severity"])


def mismatched_lines(
    answer: str, question: str, outputs: Iterable[str], logmap: LogMap, hop_host: str = ""
) -> tuple[str, list[int]]:
    """``(mismatch, the lines answer stands on)``: ``ERROR`` or ``SUCCESS`` when none of
    those lines is of the outcome asked (all below warning for an error, all at warning or
    worse for a success), ``NO_SUCCESS`` for a "none" to a question about a success (no
    lines); ``("", [])`` when the check does not apply or a line fits. ``hop_host``: the
    host a two-step question's first search found; an answer standing on a line naming it
    is the second step's, which the outcome asked does not describe."""
    if denies_success(answer, question):
        return NO_SUCCESS, []
    asked = asked_outcome(question)
    if not asked or says_nothing_found(answer) or _NEGATIVE_ANSWER.match(answer):
        return "", []  # "No, it failed at 03:00": an answer about the other outcome
    printed = printed_lines(outputs)
    lines = standing_lines(answer, printed)
    severity = logmap.severity
    if not lines or any(n > len(severity) for n in lines):
        return "", []
    if hop_host and any(_holds(printed[n], hop_host, re.IGNORECASE) for n in lines):
        return "", []
    # an error asked: a line at warning or worse fits; a success asked: one below warning
    levels = [severity[n - 1] for n in lines]
    if asked == ERROR:
        fits = any(level >= Severity.WARNING for level in levels)
    else:
        fits = any(level < Severity.WARNING for level in levels)
    return ("", []) if fits else (asked, sorted(lines))
