"""The made-up people behind the generated leads: person number -> name, phone, email.

Deterministic, so every benchmark can take in a repeat of a stored person (a number below
`Generated.people`) or a brand-new one (a number from `NEW_PEOPLE`) without a query.
"""

FIRST_NAMES = (  # noqa: SIM905
    "Ana Bruno Chloe Dev Emeka Fatima George Hana Ivan Julia Kofi Lena Marco Nadia Oscar "
    "Priya Quinn Rosa Samir Tara Umar Vera Will Xenia Yusuf Zoe Liam Olivia Noah Emma "
    "Aisha Mateo Sofia Lucas Mia Hugo Ines Tom Grace Ravi"
).split()
LAST_NAMES = (  # noqa: SIM905
    "Smith Jones Silva Costa Okafor Patel Khan Brown Taylor Wilson Davies Evans Thomas "
    "Roberts Walker Wright Hughes Green Hall Wood Clarke Jackson Turner Hill Moore Martin "
    "Lee White Harris Cooper King Ward Morgan Baker Young Allen Nguyen Murphy Kelly Ahmed"
).split()
DOMAINS = ("gmail.com", "outlook.com", "yahoo.co.uk", "icloud.com", "example.co.uk")
NEW_PEOPLE = 50_000_000  # person numbers from here on are in no generated database


def _first_last(person: int) -> tuple[str, str]:
    first = FIRST_NAMES[person % len(FIRST_NAMES)]
    last = LAST_NAMES[(person // len(FIRST_NAMES) + person * 7) % len(LAST_NAMES)]
    return first, last


def name_of(person: int) -> str:
    return " ".join(_first_last(person))


def has_phone(person: int) -> bool:
    return (person * 2_654_435_761) % 100 < 90


def has_email(person: int) -> bool:
    return (person * 2_654_435_761) % 100 >= 40


def phone_of(person: int) -> str:
    """A valid UK mobile in E.164, unique per person (7919 is prime to 10**8)."""
    return f"+4474{(person * 7919 + 12_345) % 10**8:08d}"


def national_phone(person: int) -> str:
    """The same number as a person types it in the UK: 07412 345678."""
    return national(phone_of(person))


def national(e164: str) -> str:
    """+447412345678 as typed in the UK: 07412 345678."""
    digits = "0" + e164.removeprefix("+44")
    return f"{digits[:5]} {digits[5:]}"


def email_of(person: int) -> str:
    first, last = _first_last(person)
    return f"{first.lower()}.{last.lower()}{person}@{DOMAINS[person % len(DOMAINS)]}"
