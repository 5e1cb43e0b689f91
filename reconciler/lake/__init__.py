"""The cbbd_etl lake's conventions: object keys, partition layouts, fixed table schemas, writers."""
