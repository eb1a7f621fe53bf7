"""Google Gemini: ``{model}:generateContent``, ``:streamGenerateContent``, ``:countTokens``.

See PROTOCOLS.md section 5.
"""
