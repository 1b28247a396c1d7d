"""The tone check reads Russian, Czech and Serbian (Latin and Cyrillic) as well as English.

Every sentence here is one a support team could really send; the flagged ones carry exactly
the mistake the rule is about, and nothing else worth flagging.
"""

# ruff: noqa: RUF001 (the Cyrillic letters are meant)
from __future__ import annotations

import unicodedata

import pytest
from pydantic import ValidationError

from messages.tone import (
    LANGUAGES,
    RULE_IDS,
    Language,
    RuleEntry,
    check_tone,
    rules_for,
    transliterate_serbian,
)

CLEAN: list[tuple[Language, str]] = [
    (
        "ru",
        "Простите нас: с 10:05 МСК у части из вас не проходит оплата картой. Мы уже нашли "
        "причину и исправляем её. Следующее обновление — до 11:00 МСК.",
    ),
    (
        "ru",
        "Мы знаем, что мобильное приложение у многих из вас не открывается, и нам очень жаль. "
        "Команда уже работает над этим; напишем вам снова через 30 минут.",
    ),
    (
        "ru",
        "Приносим извинения: в счетах, отправленных сегодня, неверные суммы. Мы исправляем "
        "каждый счёт и пришлём исправленные копии до 16:00 МСК.",
    ),
    (
        "ru",
        "Нам известно, что вход в личный кабинет сейчас работает медленно. Простите за "
        "ожидание. Следующее сообщение — в 14:30 МСК.",
    ),
    (
        "cs",
        "Omlouváme se: od 10:05 SEČ někteří z vás nemohou platit kartou. Příčinu jsme našli "
        "a právě ji opravujeme. Další zprávu pošleme do 11:00 SEČ.",
    ),
    (
        "cs",
        "Víme, že se mobilní aplikace mnohým z vás nenačítá, a moc nás to mrzí. Pracujeme na "
        "tom a ozveme se vám znovu do 30 minut.",
    ),
    (
        "cs",
        "Je nám líto, že dnešní faktury ukazují špatné částky. Každou fakturu opravujeme a "
        "opravené kopie vám pošleme do 16:00 SEČ.",
    ),
    (
        "cs",
        "Promiňte: přihlášení je teď pro zákazníky v Evropě pomalé. Další informace dostanete "
        "ve 14:30 SEČ.",
    ),
    (
        "sr",
        "Izvinjavamo se: od 10:05 po srednjoevropskom vremenu neki od vas ne mogu da plate "
        "karticom. Pronašli smo uzrok i upravo ga otklanjamo. Sledeće obaveštenje do 11:00.",
    ),
    (
        "sr",
        "Znamo da se mobilna aplikacija mnogima od vas ne otvara, i žao nam je. Radimo na tome "
        "i javićemo vam se ponovo za 30 minuta.",
    ),
    (
        "sr",
        "Svesni smo da današnji računi pokazuju pogrešne iznose. Izvinjavamo se. Ispravljamo "
        "svaki račun i ispravljene primerke poslaćemo vam do 16:00.",
    ),
    (
        "sr",
        "Жао нам је: пријава на налог је тренутно спора за кориснике у Европи. Следеће "
        "обавештење у 14:30 по средњоевропском времену.",
    ),
    (
        "sr",
        "Извињавамо се: од 10:05 неки од вас не могу да плате картицом. Јавићемо вам се поново "
        "до 11:00 по средњоевропском времену.",
    ),
]


@pytest.mark.parametrize(("language", "text"), CLEAN)
def test_clean_updates_in_each_language_are_not_flagged(language: Language, text: str) -> None:
    assert check_tone(text, language=language) == []


RU_NEXT = " Следующее обновление — до 11:00 МСК."
CS_NEXT = " Další zprávu pošleme do 11:00 SEČ."
SR_NEXT = " Sledeće obaveštenje do 11:00."
SR_CYR_NEXT = " Следеће обавештење до 11:00."

FLAGGED: list[tuple[Language, str, str, str]] = [
    ("ru", "Простите нас: из-за сбоя у нашего провайдера не проходят платежи." + RU_NEXT,
     "blame", "нашего провайдера"),
    ("ru", "Извините: похоже, дело в вашем интернет-провайдере." + RU_NEXT,
     "blame", "вашем интернет-провайдере"),
    ("ru", "Мы сожалеем о случившемся. Сбой произошёл из-за ошибки пользователей." + RU_NEXT,
     "blame", "ошибки пользователей"),
    ("ru", "Приносим извинения: сбой произошёл по не зависящим от нас причинам." + RU_NEXT,
     "blame", "по не зависящим от нас причинам"),
    ("ru", "Приносим извинения за доставленные неудобства." + RU_NEXT,
     "non_apology", "извинения за доставленные неудобства"),
    ("ru", "Просим прощения, если вас это затронуло." + RU_NEXT,
     "non_apology", "прощения, если"),
    ("ru", "Нам очень жаль, но банк отвечает медленно." + RU_NEXT, "sorry_but", "жаль, но"),
    ("ru", "Простите нас: оплата падает с ошибкой 502." + RU_NEXT, "jargon", "ошибкой 502"),
    ("ru", "Простите нас: на проде всё ещё сбоит оплата." + RU_NEXT, "jargon", "проде"),
    ("ru", "Простите нас: выросла латентность оплаты." + RU_NEXT, "jargon", "латентность"),
    ("ru", "Простите нас: мы откатываем вчерашний деплой." + RU_NEXT, "jargon", "деплой"),
    ("ru", "Простите нас: сбой в DNS." + RU_NEXT, "jargon", "DNS"),
    ("ru", "Простите нас. ОПЛАТА НЕ РАБОТАЕТ НИГДЕ." + RU_NEXT, "shouting",
     "ОПЛАТА НЕ РАБОТАЕТ"),
    ("ru", "Простите нас!!" + RU_NEXT, "shouting", "!!"),
    ("ru", "Простите нас: [что видят клиенты]." + RU_NEXT, "placeholder",
     "[что видят клиенты]"),
    ("cs", "Omlouváme se. Výpadek způsobil náš poskytovatel." + CS_NEXT,
     "blame", "náš poskytovatel"),
    ("cs", "Omlouváme se, podle všeho šlo o chybu uživatele." + CS_NEXT,
     "blame", "chybu uživatele"),
    ("cs", "Omlouváme se. Problém je na straně banky." + CS_NEXT, "blame", "na straně banky"),
    ("cs", "Omlouváme se. Výpadek byl mimo naši kontrolu." + CS_NEXT,
     "blame", "mimo naši kontrolu"),
    ("cs", "Omlouváme se za případné nepříjemnosti." + CS_NEXT,
     "non_apology", "případné nepříjemnosti"),
    ("cs", "Omlouváme se, pokud vás výpadek zasáhl." + CS_NEXT,
     "non_apology", "Omlouváme se, pokud"),
    ("cs", "Moc se omlouváme, ale banka odpovídá pomalu." + CS_NEXT, "sorry_but",
     "omlouváme, ale"),
    ("cs", "Omlouváme se: platby padají na chybě 503." + CS_NEXT, "jargon", "chybě 503"),
    ("cs", "Omlouváme se: po rollbacku bude vše v pořádku." + CS_NEXT, "jargon", "rollbacku"),
    ("cs", "Omlouváme se: vyskočila latence plateb." + CS_NEXT, "jargon", "latence"),
    ("cs", "Omlouváme se. PLATBY NEFUNGUJÍ NIKDE." + CS_NEXT, "shouting", "PLATBY NEFUNGUJÍ"),
    ("cs", "Omlouváme se: [co zákazníci vidí]." + CS_NEXT, "placeholder",
     "[co zákazníci vidí]"),
    ("sr", "Izvinjavamo se. Do prekida je došlo zbog greške našeg provajdera." + SR_NEXT,
     "blame", "našeg provajdera"),
    ("sr", "Izvinjavamo se, u pitanju je greška korisnika." + SR_NEXT,
     "blame", "greška korisnika"),
    ("sr", "Извињавамо се, у питању је грешка корисника." + SR_CYR_NEXT,
     "blame", "грешка корисника"),
    ("sr", "Izvinjavamo se zbog eventualnih neprijatnosti." + SR_NEXT,
     "non_apology", "eventualnih neprijatnosti"),
    ("sr", "Извињавамо се због евентуалних непријатности." + SR_CYR_NEXT,
     "non_apology", "евентуалних непријатности"),
    ("sr", "Izvinjavamo se ukoliko ste bili pogođeni prekidom." + SR_NEXT,
     "non_apology", "Izvinjavamo se ukoliko"),
    ("sr", "Žao nam je, ali banka sporo odgovara." + SR_NEXT, "sorry_but", "Žao nam je, ali"),
    ("sr", "Жао нам је, али банка споро одговара." + SR_CYR_NEXT, "sorry_but",
     "Жао нам је, али"),
    ("sr", "Izvinjavamo se: plaćanja padaju sa greškom 503." + SR_NEXT, "jargon",
     "greškom 503"),
    ("sr", "Izvinjavamo se: problem je u DNS-u." + SR_NEXT, "jargon", "DNS-u"),
    ("sr", "Извињавамо се: порасла је латенција." + SR_CYR_NEXT, "jargon", "латенција"),
    ("sr", "Izvinjavamo se. PLAĆANJE NE RADI NIGDE." + SR_NEXT, "shouting",
     "PLAĆANJE NE RADI"),
    ("sr", "Извињавамо се. ПЛАЋАЊЕ НЕ РАДИ НИГДЕ." + SR_CYR_NEXT, "shouting",
     "ПЛАЋАЊЕ НЕ РАДИ"),
    ("sr", "Izvinjavamo se: [šta korisnici vide]." + SR_NEXT, "placeholder",
     "[šta korisnici vide]"),
]  # fmt: skip


@pytest.mark.parametrize(("language", "text", "rule", "excerpt"), FLAGGED)
def test_each_rule_flags_its_problem_in_each_language(
    language: Language, text: str, rule: str, excerpt: str
) -> None:
    findings = {f.rule_id: f for f in check_tone(text, language=language)}
    assert set(findings) == {rule}, findings
    assert excerpt.lower() in findings[rule].excerpt.lower()


MISSING: list[tuple[Language, str]] = [
    ("ru", "Оплата картой не работает. Мы это исправляем."),
    ("cs", "Platby kartou nefungují. Pracujeme na tom."),
    ("sr", "Plaćanje karticom ne radi. Radimo na tome."),
    ("sr", "Плаћање картицом не ради. Радимо на томе."),
]


@pytest.mark.parametrize(("language", "text"), MISSING)
def test_a_missing_apology_and_next_update_time_are_flagged_in_each_language(
    language: Language, text: str
) -> None:
    findings = {f.rule_id for f in check_tone(text, language=language)}
    assert findings == {"no_acknowledgement", "no_next_update"}


VAGUE: list[tuple[Language, str]] = [
    ("ru", "Простите нас: оплата не проходит. Мы сообщим подробности в ближайшее время."),
    ("ru", "Простите нас: оплата не проходит, и мы не знаем, когда это исправим."),
    ("cs", "Omlouváme se: platby neprocházejí. Budeme vás informovat v nejbližší době."),
    ("sr", "Izvinjavamo se: plaćanje ne radi. Obavestićemo vas u najkraćem mogućem roku."),
    ("sr", "Извињавамо се: плаћање не ради. Јавићемо вам се у најкраћем року."),
]


@pytest.mark.parametrize(("language", "text"), VAGUE)
def test_a_vague_promise_is_not_a_next_update_time(language: Language, text: str) -> None:
    assert {f.rule_id for f in check_tone(text, language=language)} == {"no_next_update"}


def test_saying_we_do_not_know_is_not_an_acknowledgement() -> None:
    ru = check_tone("Мы не знаем, почему оплата не проходит. Напишем в 12:00 МСК.", language="ru")
    sr = check_tone("Ne znamo zašto plaćanje ne radi. Javićemo vam se u 12:00.", language="sr")
    assert [f.rule_id for f in ru] == [f.rule_id for f in sr] == ["no_acknowledgement"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_final_update_needs_no_next_update_time(language: Language) -> None:
    assert all(r.id != "no_next_update" for r in rules_for(language, final=True))
    assert [r.id for r in rules_for(language)] == list(RULE_IDS)


def test_advice_speaks_the_language_of_the_text() -> None:
    def alphabet(text: str) -> set[str]:
        return {unicodedata.name(c).split()[0].lower() for c in text if c.isalpha()}

    ru = check_tone("Приносим извинения за доставленные неудобства.", language="ru")
    cs = check_tone("Omlouváme se za případné nepříjemnosti.", language="cs")
    assert {"Не указано время следующего обновления", "Похоже на отписку, а не на извинение"} == {
        f.title for f in ru
    }
    assert "Chybí čas další zprávy" in {f.title for f in cs}
    latin = check_tone("Izvinjavamo se zbog eventualnih neprijatnosti.", language="sr")
    cyrillic = check_tone("Извињавамо се због евентуалних непријатности.", language="sr")
    assert (
        [f.rule_id for f in latin]
        == [f.rule_id for f in cyrillic]
        == [
            "non_apology",
            "no_next_update",
        ]
    )
    assert all(alphabet(f.title + f.advice) == {"latin"} for f in latin)
    assert all("cyrillic" in alphabet(f.title) and "latin" not in alphabet(f.title)
               for f in cyrillic)  # fmt: skip
    assert cyrillic[0].title == "Звучи као празно извињење"


def test_serbian_cyrillic_is_read_letter_for_letter_as_latin() -> None:
    view = transliterate_serbian("Љубазно, ЉУТИ ЏЕП, Ђорђе, њих, {next_update}")
    assert view.text == "Ljubazno, LJUTI DŽEP, Đorđe, njih, {next_update}"
    assert view.cyrillic


def test_each_language_reads_only_its_own_rules() -> None:
    """Each language reads only its own rules: Russian blame words mean nothing to Czech."""
    text = "Приносим извинения за доставленные неудобства. Следующее обновление — до 11:00 МСК."
    assert {f.rule_id for f in check_tone(text, language="ru")} == {"non_apology"}
    assert "non_apology" not in {f.rule_id for f in check_tone(text, language="cs")}


def test_a_rule_whose_pattern_is_not_a_regular_expression_is_refused() -> None:
    with pytest.raises(ValidationError, match="is not a regular expression"):
        RuleEntry(id="blame", title="t", advice="a", words=("naš (provajder",))
