"""Kitchens measurement booking: the measurers' schedules service and its portal write job."""
