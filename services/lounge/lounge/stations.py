"""Stations as booking announces them: lounge needs their time zones for local days and hours."""

from airside.copies import StationCopy


class Station(StationCopy, table=True):
    pass
