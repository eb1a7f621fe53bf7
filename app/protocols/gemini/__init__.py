"""Google Gemini: ``{model}:generateContent``, ``:streamGenerateContent``, ``:countTokens``.

See PROTOCOLS.md section 5. Client side (a Gemini client, another upstream):
``decode.decode_request`` and ``encode.encode_response`` /
``encode.GeminiStreamEncoder``. Upstream side (a Gemini account, another
client): ``encode.encode_request`` and ``decode.decode_response`` /
``decode.StreamDecoder``. Same-protocol traffic never comes here; it is
relayed byte for byte and only ``usage`` reads it.
"""
