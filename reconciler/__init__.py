"""cbbd-reconciler: plan/apply reconciliation for the cbbd_etl lake."""
