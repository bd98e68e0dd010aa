# Strings are sequences of code points: indexing, length, slicing, case, escapes.
s = "héllo wörld"
print(len(s), s[1], s[-4], s[::-1], s.upper(), s.title())
emoji = "a😀b"
print(len(emoji), emoji[1] == "😀", ord(emoji[1]), emoji[::-1], emoji.index("b"))
greek = "αβγ"
print(greek.upper(), [ord(c) for c in greek], "".join(chr(ord(c) + 1) for c in greek))
print(repr("tab\tnew\nquote'"), repr("\x00\x7f"), repr("é"), repr("\u200b"), "\N{BULLET}" == "\u2022")
print("straße".upper(), "ǅ".lower(), "İ".lower() == "i̇", len("İ".lower()))
print("naïve café".split(), "café".find("é"), "résumé".replace("é", "e"), "日本語"[1:])
print(sorted("zebra äpple apple".split()), "ä" > "z", min("βα"))
print("{:^9}|".format("ü"), f"{'ñ':>3}|", "%-4s|" % "ø")
print("abc".isascii() if hasattr(str, "isascii") else True, "١٢٣".isdigit(), "Ⅻ".isnumeric())
