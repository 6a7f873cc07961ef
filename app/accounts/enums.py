from enum import StrEnum

from flask_babel import lazy_gettext

from ..i18n import LabelledEnum

#: The shortest password accepted.
MIN_PASSWORD_LENGTH = 8


class Role(LabelledEnum):
    """Each role and how it reads to people (translated when shown; the codes stay in the API and the
    import)."""

    ORGANISER = "organiser", lazy_gettext("organiser")
    PRESENTER = "presenter", lazy_gettext("presenter")
    ATTENDEE = "attendee", lazy_gettext("attendee")


class OrganisationKind(LabelledEnum):
    """Each organisation kind and how it reads to people (the codes stay in the API and the import)."""

    CITY_BUREAU = "city_bureau", lazy_gettext("City commerce bureau")
    PARK = "park", lazy_gettext("Industrial park")
    ENTERPRISE = "enterprise", lazy_gettext("Enterprise")
    AGENCY = "agency", lazy_gettext("Agency")


class Locale(StrEnum):
    ZH = "zh"
    EN = "en"


#: The organisation kind `user create` gives a new organisation when none is named.
DEFAULT_KIND_FOR_ROLE = {
    Role.ORGANISER: OrganisationKind.AGENCY,
    Role.PRESENTER: OrganisationKind.AGENCY,
    Role.ATTENDEE: OrganisationKind.CITY_BUREAU,
}


#: The labels by code, and each code in the reader's language (an unknown value is shown as it is).
ROLE_LABELS = Role.labels()
KIND_LABELS = OrganisationKind.labels()
role_label = Role.label_of
kind_label = OrganisationKind.label_of
