"""Language versions of appeals: translations bound to a revision of the original (interface catalogs: petitions.i18n)."""
