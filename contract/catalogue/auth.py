"""Catalogue entries of the `auth` area (owned by one module; see `contract.catalogue`).

Who the caller is (cookie or token), what they may reach, and why a request was refused for it.
"""

from __future__ import annotations

from contract.catalogue.entry import Entry

ENTRIES: dict[str, Entry] = {
    "auth.token_missing": Entry(
        en="Sign in first: this service needs a login token.",
        ru="Сначала войдите: для этого сервиса нужен токен входа.",
    ),
    "auth.token_invalid": Entry(
        en="The login token is not valid or has expired; sign in again.",
        ru="Токен входа недействителен или истёк; войдите снова.",
    ),
    "auth.foreign_origin": Entry(
        en="Refused: the request came from another site.",
        ru="Отклонено: запрос пришёл с другого сайта.",
    ),
    "auth.ops_token": Entry(
        en="This endpoint is for operators: send Authorization: Bearer with the operator token.",
        ru="Это служебный адрес для операторов: передайте Authorization: Bearer с токеном оператора.",
    ),
    "auth.link_invalid": Entry(
        en="This link is not valid or has expired.",
        ru="Эта ссылка недействительна или её срок истёк.",
    ),
}
