from enum import StrEnum

from flask_babel import lazy_gettext

from ..i18n import enum_label

#: The shortest password accepted.
MIN_PASSWORD_LENGTH = 8


class Role(StrEnum):
    ORGANISER = "organiser"
    PRESENTER = "presenter"
    ATTENDEE = "attendee"


class OrganisationKind(StrEnum):
    CITY_BUREAU = "city_bureau"
    PARK = "park"
    ENTERPRISE = "enterprise"
    AGENCY = "agency"


class Locale(StrEnum):
    ZH = "zh"
    EN = "en"


#: The organisation kind `user create` gives a new organisation when none is named.
DEFAULT_KIND_FOR_ROLE = {
    Role.ORGANISER: OrganisationKind.AGENCY,
    Role.PRESENTER: OrganisationKind.AGENCY,
    Role.ATTENDEE: OrganisationKind.CITY_BUREAU,
}


#: How each role reads to people (translated when shown; the codes stay in the API and the import).
ROLE_LABELS = {
    Role.ORGANISER: lazy_gettext("organiser"),
    Role.PRESENTER: lazy_gettext("presenter"),
    Role.ATTENDEE: lazy_gettext("attendee"),
}

#: How each organisation kind reads to people (the codes stay in the API and the import).
KIND_LABELS = {
    OrganisationKind.CITY_BUREAU: lazy_gettext("City commerce bureau"),
    OrganisationKind.PARK: lazy_gettext("Industrial park"),
    OrganisationKind.ENTERPRISE: lazy_gettext("Enterprise"),
    OrganisationKind.AGENCY: lazy_gettext("Agency"),
}


def role_label(role: str) -> str:
    """The role in the reader's language (an unknown value is shown as it is)."""
    return enum_label(ROLE_LABELS, role)


def kind_label(kind: str) -> str:
    """The organisation kind in the reader's language (an unknown value is shown as it is)."""
    return enum_label(KIND_LABELS, kind)
