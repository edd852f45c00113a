"""The paper-trading engine's pure logic: no faststream, pymongo, fastapi or settings imports here."""
