"""Pages of the register: excel. (Being written.)"""

urlpatterns: list = []
