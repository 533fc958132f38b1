"""Document generation: templates, fill-in, conversion to PDF (convert.py), mail merge, merged-PDF split."""
