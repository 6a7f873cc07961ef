from enum import StrEnum


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
