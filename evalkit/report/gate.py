"""The last gate before anything is published: every page, headline file and index is parsed
here before it is written, and refused on any live element or attribute, any link or source
whose scheme is not allowed, any resource from the network, and any personal value of the
programme's input (the data-in layer's canaries).

Allowed: links (``href``) to anchors in the page and to http/https pages; images as
``data:image/png``; fonts as ``data:font/…`` in style elements; SVG references to the page's
own ids. Refused: scripts, event-handler attributes, frames, objects, forms, base and meta
refresh, SVG animation and foreign objects, ``javascript:``/``vbscript:``/``data:`` links and
any other scheme, remote ``src``, ``@import`` and remote ``url()`` in styles.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from evalkit.errors import ReportError

FORBIDDEN = {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "base", "form",
             "input", "button", "textarea", "select", "option", "link", "portal", "audio", "video",
             "source", "track", "noscript", "template", "foreignobject", "animate", "set",
             "animatemotion", "animatetransform", "image", "feimage", "handler", "listener",
             "param", "dialog", "math"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "poster", "srcset", "data", "background",
                  "cite", "longdesc", "usemap", "ping", "manifest", "codebase", "dynsrc", "lowsrc",
                  "archive", "classid", "profile", "icon", "srcdoc", "itemtype"}
_SPACE = re.compile(r"[\x00-\x20\x7f]+")
_CSS_DANGER = re.compile(r"@import|expression\s*\(|javascript:|vbscript:|behavior\s*:|-moz-binding",
                         re.IGNORECASE)
_CSS_URL = re.compile(r"url\(\s*([\"']?)([^\"')]*)\1\s*\)", re.IGNORECASE)
META_ALLOWED = {"charset", "viewport", "content-security-policy", "color-scheme", "generator"}


class _Gate(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._style = False

    def _refuse(self, what: str) -> None:
        if len(self.problems) < 5:
            self.problems.append(what)

    def handle_starttag(self, tag, attrs):
        self._element(tag, attrs)

    def handle_startendtag(self, tag, attrs):
        self._element(tag, attrs)
        self._style = False

    def _element(self, tag: str, attrs) -> None:
        tag = tag.lower()
        local = tag.rsplit(":", 1)[-1]
        if local in FORBIDDEN:
            self._refuse(f"a <{local}> element")
        if local == "meta":
            self._meta(attrs)
        self._style = local == "style"
        for name, value in attrs:
            self._attribute(local, (name or "").lower(), value or "")

    def _meta(self, attrs) -> None:
        """Only a charset, viewport or security-policy <meta> passes."""
        names = {(k or "").lower(): (v or "") for k, v in attrs}
        kind = (names.get("http-equiv") or names.get("name") or
                ("charset" if "charset" in names else "")).lower()
        if kind not in META_ALLOWED:
            self._refuse("a <meta> element that is not charset, viewport or the security policy")

    def _attribute(self, local: str, name: str, value: str) -> None:
        """An attribute of element ``local``: no event handler, no address that loads or
        runs anything, no style that does, nothing that rewrites a link."""
        short = name.rsplit(":", 1)[-1]
        if name == "xmlns" or name.startswith("xmlns:"):
            return  # a namespace declaration loads nothing
        if short.startswith("on"):
            self._refuse(f"an event-handler attribute ({short})")
        elif short in URL_ATTRIBUTES or name in URL_ATTRIBUTES:
            self._url(local, short, value)
        elif short == "style":
            self._css(value)
        elif short in ("attributename",) and value.lower() in ("href", "xlink:href"):
            self._refuse("an attribute that rewrites a link")

    def _url(self, tag: str, attribute: str, value: str) -> None:
        url = _SPACE.sub("", value)
        lowered = url.lower()
        if attribute == "href":
            if url.startswith("#"):
                return
            if tag == "a" and re.match(r"^https?://[^\s\"'<>]+$", url, re.IGNORECASE):
                return
            if tag == "a" and re.fullmatch(r"[\w.-]+\.html", url):  # the index's own reports
                return
            self._refuse(f"a link whose address is not allowed ({lowered.split(':', 1)[0][:12]}…)")
        elif attribute == "src" and tag == "img" and lowered.startswith("data:image/png;base64,"):
            return
        else:
            self._refuse(f"a {attribute} attribute that loads something ({lowered[:12]}…)")

    def _css(self, text: str) -> None:
        if _CSS_DANGER.search(text):
            self._refuse("style that imports or runs code")
        for _quote, url in _CSS_URL.findall(text):
            url = _SPACE.sub("", url).lower()
            if not (url.startswith("data:font/") or url.startswith("data:image/png;base64,")
                    or url.startswith("#")):
                self._refuse("style that loads a resource")

    def handle_endtag(self, tag):
        if tag.lower().rsplit(":", 1)[-1] == "style":
            self._style = False

    def handle_data(self, data):
        if self._style:
            self._css(data)

    def handle_pi(self, data):
        self._refuse("a processing instruction")

    def unknown_decl(self, data):
        if not data.upper().startswith("CDATA["):
            self._refuse("an unknown declaration")


def live_content(page: str) -> list[str]:
    """What in ``page`` could run, load or navigate somewhere not allowed (empty when the page
    is inert)."""
    gate = _Gate()
    gate.feed(page)
    gate.close()
    return gate.problems


def leaked(text: str, canaries) -> int:
    """How many of the input's personal values occur in ``text``: ``canaries`` is the
    data-in layer's keyed :class:`~evalkit.data.personal.Canaries`, or plain values (tests)."""
    if canaries is None:
        return 0
    found = getattr(canaries, "found", None)
    if found is not None:
        return found(text)
    return sum(1 for value in canaries if value and value in text)


def check_page(page: str, name: str, canaries=frozenset()) -> None:
    """Refuse an HTML page that is not inert or holds a personal value of the input."""
    problems = live_content(page)
    if problems:
        raise ReportError(f"{name}: the page would contain {problems[0]}; nothing was written.")
    found = leaked(page, canaries)
    if found:
        raise ReportError(f"{name}: the page would contain personal data from the input "
                          f"({found} value(s)); nothing was written.")


def check_record(record, name: str, canaries=frozenset()) -> str:
    """A structured record (the headline file) as JSON, refused when it holds a personal
    value of the input (its texts are text: every page that shows them escapes them)."""
    text = json.dumps(record, ensure_ascii=False, indent=1, sort_keys=True)

    def strings(node):
        if isinstance(node, dict):
            for k, v in node.items():
                yield str(k)
                yield from strings(v)
        elif isinstance(node, list):
            for v in node:
                yield from strings(v)
        elif isinstance(node, str):
            yield node

    found = leaked(text, canaries)
    if found:
        raise ReportError(f"{name}: the headline record would contain personal data from the "
                          f"input ({found} value(s)); nothing was written.")
    return text + "\n"


def check_notebook(nb, name: str, canaries=frozenset()) -> str:
    """An executed notebook fit to publish, as text: every HTML output inert, no error
    output, no personal value anywhere in it."""
    import nbformat

    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                raise ReportError(f"{name}: the executed notebook holds an error; it was not kept.")
            html = output.get("data", {}).get("text/html")
            if html:
                check_page("".join(html) if isinstance(html, list) else html, name, canaries)
    text = nbformat.writes(nb)
    found = leaked(text, canaries)
    if found:
        raise ReportError(f"{name}: the executed notebook would contain personal data from the "
                          f"input ({found} value(s)); it was not kept.")
    return text
