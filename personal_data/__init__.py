"""Personal data, encrypted under per-person keys and erased by deleting them (crypto-shredding).

keys.py: the key table (SQL, beside the event store's tables, so a backup of the store holds them);
cipher.py: the `eventsourcing` transcoding that encrypts `domain.personal_data.PersonalData` on encode
and decrypts it on decode (reading `[erased]` once the key is gone); erasure.py: what an erasure does
besides deleting the keys (scrubbing copies of the plain value, freeing the bytes on disk);
backup.py: a consistent, owner-only copy of the whole store, keys included.
"""
