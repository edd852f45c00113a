"""Pure registry rules: no faststream, pymongo, fastapi or settings imports here."""
