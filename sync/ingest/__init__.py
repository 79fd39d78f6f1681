"""File ingestion: FIT bytes from any source into the raw store and the database.

`folder` and `archive` find FIT files in folders and Garmin export ZIPs, `batch` runs an import
over them, `rawstore` keeps the bytes (content-addressed), `importer` decodes and upserts one
file (used by the Garmin sync too), `reprocess` re-decodes stored bytes offline.
"""
