from __future__ import annotations

from enum import StrEnum

from flask_babel import lazy_gettext as _l

from ..i18n import LabelledEnum


class ParkKind(LabelledEnum):
    HIGH_TECH_ZONE = "high_tech_zone", _l("High-tech zone")
    ECONOMIC_DEVELOPMENT_ZONE = "economic_development_zone", _l("Economic development zone")
    INDUSTRIAL_PARK = "industrial_park", _l("Industrial park")
    COMPREHENSIVE_BONDED_ZONE = "comprehensive_bonded_zone", _l("Comprehensive bonded zone")
    PORT_AREA = "port_area", _l("Port industrial area")


class LandUse(LabelledEnum):
    INDUSTRIAL = "industrial", _l("Industrial land")
    LOGISTICS = "logistics", _l("Logistics and warehousing land")
    RESEARCH = "research", _l("Research and development land")
    COMMERCIAL = "commercial", _l("Commercial land")


class PlotStatus(LabelledEnum):
    AVAILABLE = "available", _l("Available")
    RESERVED = "reserved", _l("Reserved")
    TAKEN = "taken", _l("Taken")


class EmissionsClass(LabelledEnum):
    """How much a plant emits, in the order a park admits them (a park admitting `high` admits all)."""

    LOW = "low", _l("Low emissions")
    MEDIUM = "medium", _l("Medium emissions")
    HIGH = "high", _l("High emissions")


EMISSIONS_ORDER = {EmissionsClass.LOW: 0, EmissionsClass.MEDIUM: 1, EmissionsClass.HIGH: 2}


class IncentiveKind(LabelledEnum):
    LAND_PRICE = "land_price", _l("Land price reduction")
    TAX = "tax", _l("Tax rebate")
    RENT = "rent", _l("Rent-free period")
    SUBSIDY = "subsidy", _l("Investment subsidy")
    TALENT = "talent", _l("Talent support")
    OTHER = "other", _l("Other support")


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
