"""Broken: CSV data saved as .py; it parses, but line 2 names undefined sepal_length."""
sepal_length,sepal_width,species
5.1,3.5,setosa
4.9,3.0,setosa
