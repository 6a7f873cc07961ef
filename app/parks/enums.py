from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l


class ParkKind(StrEnum):
    HIGH_TECH_ZONE = "high_tech_zone"
    ECONOMIC_DEVELOPMENT_ZONE = "economic_development_zone"
    INDUSTRIAL_PARK = "industrial_park"
    COMPREHENSIVE_BONDED_ZONE = "comprehensive_bonded_zone"
    PORT_AREA = "port_area"


PARK_KIND_LABELS = {
    ParkKind.HIGH_TECH_ZONE: _l("High-tech zone"),
    ParkKind.ECONOMIC_DEVELOPMENT_ZONE: _l("Economic development zone"),
    ParkKind.INDUSTRIAL_PARK: _l("Industrial park"),
    ParkKind.COMPREHENSIVE_BONDED_ZONE: _l("Comprehensive bonded zone"),
    ParkKind.PORT_AREA: _l("Port industrial area"),
}


class LandUse(StrEnum):
    INDUSTRIAL = "industrial"
    LOGISTICS = "logistics"
    RESEARCH = "research"
    COMMERCIAL = "commercial"


LAND_USE_LABELS = {
    LandUse.INDUSTRIAL: _l("Industrial land"),
    LandUse.LOGISTICS: _l("Logistics and warehousing land"),
    LandUse.RESEARCH: _l("Research and development land"),
    LandUse.COMMERCIAL: _l("Commercial land"),
}


class PlotStatus(StrEnum):
    AVAILABLE = "available"
    RESERVED = "reserved"
    TAKEN = "taken"


PLOT_STATUS_LABELS = {
    PlotStatus.AVAILABLE: _l("Available"),
    PlotStatus.RESERVED: _l("Reserved"),
    PlotStatus.TAKEN: _l("Taken"),
}


class EmissionsClass(StrEnum):
    """How much a plant emits, in the order a park admits them (a park admitting `high` admits all)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


EMISSIONS_ORDER = {EmissionsClass.LOW: 0, EmissionsClass.MEDIUM: 1, EmissionsClass.HIGH: 2}

EMISSIONS_LABELS = {
    EmissionsClass.LOW: _l("Low emissions"),
    EmissionsClass.MEDIUM: _l("Medium emissions"),
    EmissionsClass.HIGH: _l("High emissions"),
}


class IncentiveKind(StrEnum):
    LAND_PRICE = "land_price"
    TAX = "tax"
    RENT = "rent"
    SUBSIDY = "subsidy"
    TALENT = "talent"
    OTHER = "other"


INCENTIVE_KIND_LABELS = {
    IncentiveKind.LAND_PRICE: _l("Land price reduction"),
    IncentiveKind.TAX: _l("Tax rebate"),
    IncentiveKind.RENT: _l("Rent-free period"),
    IncentiveKind.SUBSIDY: _l("Investment subsidy"),
    IncentiveKind.TALENT: _l("Talent support"),
    IncentiveKind.OTHER: _l("Other support"),
}


class Criterion(StrEnum):
    """What the matcher scores, each with a weight organisers may change."""

    LAND = "land"
    POWER = "power"
    WATER = "water"
    READY = "ready"
    BUDGET = "budget"
    REGION = "region"
    EMISSIONS = "emissions"
    SECTOR = "sector"


DEFAULT_WEIGHTS = {
    Criterion.LAND: 20,
    Criterion.POWER: 15,
    Criterion.WATER: 10,
    Criterion.READY: 15,
    Criterion.BUDGET: 20,
    Criterion.REGION: 10,
    Criterion.EMISSIONS: 5,
    Criterion.SECTOR: 5,
}
